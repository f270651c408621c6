"""Spiking MobileNetV1 on ImageNet: convert the quantized checkpoint, simulate the validation set (--shard I/N
to split it), write figs/<variant>/k<K>/ logs."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from spiking_utils import snn_main  # noqa: E402

if __name__ == '__main__':
    snn_main('mobilenet_imagenet', __file__)
