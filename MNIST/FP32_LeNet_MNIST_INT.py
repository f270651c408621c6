"""Full-precision baseline of the all-integer LeNet on MNIST (seed 002's FP32_LeNet_MNIST.py)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.ann.cli import ann_main  # noqa: E402

if __name__ == '__main__':
    ann_main('lenet_mnist_int', __file__, full_precision=True)
