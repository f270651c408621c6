"""Spiking CNN1 on CIFAR-10 (seed 001; with --use_ternary/--use_int/--noise_ratio the all-integer VGG-Net of seed
002): convert, simulate the test set, write figs/CNN1/k<K>/ (all-integer: figs/{WQ,NWQ}[_INT]/k<K>/) logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('cnn1_cifar10', __file__)
