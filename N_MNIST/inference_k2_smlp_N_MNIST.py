"""Seed 004's name for: python Spiking_MLP_N_MNIST.py --k 2"""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('mlp_nmnist', __file__, preset=['--k', '2'])
