"""Seed 004's name for: python FP32_MLP_N_MNIST.py --mode inference"""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('mlp_nmnist', __file__, full_precision=True, preset=['--mode', 'inference'])
