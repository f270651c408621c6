"""Seed 004's name for: python Quant_MLP_N_MNIST.py --k 1 --mode inference"""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('mlp_nmnist', __file__, preset=['--k', '1', '--mode', 'inference'])
