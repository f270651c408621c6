"""Full-precision LeNet 12C5-P2-64C4-P2 on N-MNIST frames (--polarity both: two channels) (seed 004): train or
evaluate the baseline."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('lenet_nmnist', __file__, full_precision=True)
