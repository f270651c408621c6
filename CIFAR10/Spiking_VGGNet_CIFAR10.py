"""Spiking all-integer VGG-Net (CNN1 geometry) on CIFAR-10 (seed 002): convert, simulate the test set, write
figs/{WQ,NWQ}[_INT]/k<K>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('cnn1_cifar10_int', __file__)
