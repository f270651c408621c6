"""N-MNIST event files (Train|Test/<digit>/*.bin) -> the frame dataset in data/n_mnist/ (seed 004)."""
from snn_conversion.data.nmnist import main

if __name__ == '__main__':
    main(script_file=__file__)
