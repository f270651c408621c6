"""Quantized scatter-and-gather VGG-Net on CIFAR-100 (seed 003): train or evaluate."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('vgg_cifar100_sg', __file__)
