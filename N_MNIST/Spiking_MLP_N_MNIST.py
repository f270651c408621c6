"""Spiking MLP 400-400 on N-MNIST frames (--polarity both: two channels) (seed 004): convert, simulate the test
set, write figs/MLP[_2p]/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('mlp_nmnist', __file__)
