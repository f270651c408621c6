"""Quantized LeNet 12C5-P2-64C4-P2 on N-MNIST frames (--polarity both: two channels) (seed 004): train or evaluate."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_nmnist', __file__)
