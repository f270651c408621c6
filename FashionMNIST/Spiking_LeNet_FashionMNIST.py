"""Spiking LeNet on Fashion-MNIST: convert the quantized checkpoint, simulate, write figs/LeNet/k<K>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('lenet_fashionmnist', __file__)
