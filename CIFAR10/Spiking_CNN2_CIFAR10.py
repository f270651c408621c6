"""Spiking CNN2 on CIFAR-10 (seed 001): convert, simulate the test set, write figs/CNN2/k<K>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('cnn2_cifar10', __file__)
