"""Spiking CNN2 on CIFAR-10 (seed 001): convert, simulate the test set, write figs/CNN2/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('cnn2_cifar10', __file__)
