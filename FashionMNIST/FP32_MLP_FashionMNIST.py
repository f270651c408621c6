"""Full-precision MLP baseline on Fashion-MNIST: train or evaluate. `--help` lists the flags."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('mlp_fashionmnist', __file__, full_precision=True)
