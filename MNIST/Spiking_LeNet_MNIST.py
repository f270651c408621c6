"""Spiking negative-spike LeNet on MNIST (seed 001's Spiking_LeNet_MNIST.py): logs in figs/k<K>/."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('lenet_mnist', __file__)
