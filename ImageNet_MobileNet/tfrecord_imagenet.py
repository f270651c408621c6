"""ImageNet folders (train/<wnid>/*.JPEG, val/...) -> sharded TFRecords + synsets.txt + meta.json. `--help` lists the flags."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from snn_conversion.data.imagenet import main  # noqa: E402

if __name__ == '__main__':
    main()
