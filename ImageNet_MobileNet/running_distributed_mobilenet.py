"""Seed 000's name for Quant_MobileNet_ImageNet.py (`--k` and the authors' `--quant_level` both work)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import mobilenet_ann_main  # noqa: E402

if __name__ == '__main__':
    mobilenet_ann_main(__file__)
