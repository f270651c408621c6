"""ImageNet folders (train/<wnid>/*.JPEG, val/...) -> sharded TFRecords + synsets.txt + meta.json. `--help` lists the flags."""
from snn_conversion.data.imagenet import main

if __name__ == '__main__':
    main()
