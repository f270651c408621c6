"""Full-precision LeNet baseline on Fashion-MNIST: train or evaluate. `--help` lists the flags."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_fashionmnist', __file__, full_precision=True)
