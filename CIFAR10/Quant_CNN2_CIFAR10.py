"""Quantized CNN2 on CIFAR-10 (seed 001): train or evaluate."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('cnn2_cifar10', __file__)
