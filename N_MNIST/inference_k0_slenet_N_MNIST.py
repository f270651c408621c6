"""Seed 004's name for: python Spiking_LeNet_N_MNIST.py --k 0"""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('lenet_nmnist', __file__, preset=['--k', '0'])
