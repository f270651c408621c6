"""Spiking MobileNetV1 on ImageNet: convert the quantized checkpoint, simulate the validation set (--shard I/N
to split it), write figs/<variant>/k<K>/ logs."""
from spiking_utils import snn_main

if __name__ == '__main__':
    snn_main('mobilenet_imagenet', __file__)
