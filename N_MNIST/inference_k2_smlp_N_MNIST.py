"""Seed 004's name for: python Spiking_MLP_N_MNIST.py --k 2"""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('mlp_nmnist', __file__, preset=['--k', '2'])
