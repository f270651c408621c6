"""Spiking scatter-and-gather VGG-Net on CIFAR-10 (seed 003): convert, simulate the test set, write
figs/VGG/k<K>B<B>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('vgg_cifar10_sg', __file__)
