"""Spiking all-integer LeNet on MNIST (seed 002's Spiking_LeNet_MNIST.py): --use_ternary --use_int --noise_ratio,
logs in figs/{WQ,NWQ}[_INT]/k<K>/."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_mnist_int', __file__)
