"""Seed 000's name for Quant_MobileNet_ImageNet.py (`--k` and the authors' `--quant_level` both work)."""
from snn_conversion.ann.cli import mobilenet_ann_main

if __name__ == '__main__':
    mobilenet_ann_main(__file__)
