"""Spiking all-integer VGG-Net (CNN1 geometry) on CIFAR-10 (seed 002): convert, simulate the test set, write
figs/{WQ,NWQ}[_INT]/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('cnn1_cifar10_int', __file__)
