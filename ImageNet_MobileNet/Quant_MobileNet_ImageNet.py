"""Quantized MobileNetV1 on ImageNet: train (--num_gpus towers, TF_CONFIG workers) or evaluate. `--help` lists the flags."""
from snn_conversion.ann.cli import mobilenet_ann_main

if __name__ == '__main__':
    mobilenet_ann_main(__file__)
