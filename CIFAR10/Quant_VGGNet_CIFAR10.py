"""Quantized all-integer VGG-Net (CNN1 geometry) on CIFAR-10 (seed 002): train or evaluate."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('cnn1_cifar10_int', __file__)
