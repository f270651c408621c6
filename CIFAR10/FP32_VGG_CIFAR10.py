"""Full-precision scatter-and-gather VGG-Net on CIFAR-10 (seed 003): train or evaluate the baseline."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('vgg_cifar10_sg', __file__, full_precision=True)
