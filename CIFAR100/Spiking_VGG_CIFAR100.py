"""Spiking scatter-and-gather VGG-Net on CIFAR-100 (seed 003): convert, simulate the test set, write
figs/VGG/k<K>B<B>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('vgg_cifar100_sg', __file__)
