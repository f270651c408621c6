"""Spiking negative-spike LeNet on MNIST (seed 001's Spiking_LeNet_MNIST.py): logs in figs/k<K>/."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_mnist', __file__)
