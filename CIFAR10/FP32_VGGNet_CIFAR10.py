"""Full-precision all-integer VGG-Net (CNN1 geometry) on CIFAR-10 (seed 002): train or evaluate the baseline."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('cnn1_cifar10_int', __file__, full_precision=True)
