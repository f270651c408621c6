"""Quantized all-integer LeNet on MNIST (seed 002's Quant_LeNet_MNIST.py): train or evaluate, --use_ternary."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_mnist_int', __file__)
