"""Spiking scatter-and-gather LeNet on MNIST (seed 003's Spiking_LeNet_MNIST.py): one step, figs/k<K>B<B>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_mnist_sg', __file__)
