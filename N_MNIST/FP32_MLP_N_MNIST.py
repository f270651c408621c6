"""Full-precision MLP 400-400 on N-MNIST frames (--polarity both: two channels) (seed 004): train or evaluate the
baseline."""
from snn_conversion.ann.cli import ann_main

if __name__ == '__main__':
    ann_main('mlp_nmnist', __file__, full_precision=True)
