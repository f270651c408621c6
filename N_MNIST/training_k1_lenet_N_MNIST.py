"""Seed 004's name for: python Quant_LeNet_N_MNIST.py --k 1 --mode training"""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_nmnist', __file__, preset=['--k', '1', '--mode', 'training'])
