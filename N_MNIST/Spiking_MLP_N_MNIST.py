"""Spiking MLP 400-400 on N-MNIST frames (--polarity both: two channels) (seed 004): convert, simulate the test
set, write figs/MLP[_2p]/k<K>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('mlp_nmnist', __file__)
