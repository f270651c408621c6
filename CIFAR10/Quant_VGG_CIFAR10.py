"""Quantized scatter-and-gather VGG-Net on CIFAR-10 (seed 003): train or evaluate."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('vgg_cifar10_sg', __file__)
