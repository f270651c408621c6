"""Spiking CNN1 on CIFAR-10 (seed 001; with --use_ternary/--use_int/--noise_ratio the all-integer VGG-Net of seed
002): convert, simulate the test set, write figs/CNN1/k<K>/ (all-integer: figs/{WQ,NWQ}[_INT]/k<K>/) logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('cnn1_cifar10', __file__)
