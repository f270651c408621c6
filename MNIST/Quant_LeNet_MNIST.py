"""Quantized negative-spike LeNet on MNIST (seed 001's Quant_LeNet_MNIST.py): train or evaluate."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('lenet_mnist', __file__)
