"""Quantized MobileNetV1 on ImageNet: train (--num_gpus towers, TF_CONFIG workers) or evaluate. `--help` lists the flags."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import mobilenet_ann_main  # noqa: E402

if __name__ == '__main__':
    mobilenet_ann_main(__file__)
