"""Accuracy versus time step of this workspace's SNN logs: ``python accuracy_speed.py`` here (every log folder below) or with
DIR[=LABEL] arguments; see ../../figs/accuracy_speed.py."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
from figs.accuracy_speed import main  # noqa: E402

if __name__ == '__main__':
    main()
