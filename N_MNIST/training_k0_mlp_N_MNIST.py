"""Seed 004's name for: python Quant_MLP_N_MNIST.py --k 0 --mode training"""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('mlp_nmnist', __file__, preset=['--k', '0', '--mode', 'training'])
