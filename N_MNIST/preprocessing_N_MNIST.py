"""N-MNIST event files (Train|Test/<digit>/*.bin) -> the frame dataset in data/n_mnist/ (seed 004)."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.data.nmnist import main  # noqa: E402

if __name__ == '__main__':
    main(script_file=__file__)
