"""Spiking LeNet 12C5-P2-64C4-P2 on N-MNIST frames (--polarity both: two channels) (seed 004): convert, simulate
the test set, write figs/LeNet[_2p]/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_nmnist', __file__)
