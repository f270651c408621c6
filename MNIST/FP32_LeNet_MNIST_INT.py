"""Full-precision baseline of the all-integer LeNet on MNIST (seed 002's FP32_LeNet_MNIST.py)."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_mnist_int', __file__, full_precision=True)
