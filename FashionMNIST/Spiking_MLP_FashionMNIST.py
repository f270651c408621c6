"""Spiking MLP on Fashion-MNIST: convert the quantized checkpoint, simulate, write figs/MLP/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('mlp_fashionmnist', __file__)
