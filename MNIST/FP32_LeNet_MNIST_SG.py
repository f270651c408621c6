"""Full-precision baseline of the scatter-and-gather LeNet on MNIST (seed 003's FP32_LeNet_MNIST.py)."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('lenet_mnist_sg', __file__, full_precision=True)
