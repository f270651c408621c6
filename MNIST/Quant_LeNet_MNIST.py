"""Quantized negative-spike LeNet on MNIST (seed 001's Quant_LeNet_MNIST.py): train or evaluate."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_mnist', __file__)
