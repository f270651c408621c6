"""Accuracy versus time step of this workspace's SNN logs: ``python accuracy_speed.py`` here (every log folder below) or with
DIR[=LABEL] arguments; see ../../figs/accuracy_speed.py."""
from figs.accuracy_speed import main

if __name__ == '__main__':
    main()
