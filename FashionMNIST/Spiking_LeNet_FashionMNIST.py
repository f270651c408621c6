"""Spiking LeNet on Fashion-MNIST: convert the quantized checkpoint, simulate, write figs/LeNet/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_fashionmnist', __file__)
