"""Full-precision CNN1 on CIFAR-10 (seed 001): train or evaluate the baseline."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('cnn1_cifar10', __file__, full_precision=True)
