"""Quantized MLP on Fashion-MNIST (negative-spike family): train or evaluate. `--help` lists the flags."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('mlp_fashionmnist', __file__)
