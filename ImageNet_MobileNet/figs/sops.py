"""Synaptic operations per image of this workspace's SNN logs: ``python sops.py`` here (every log folder below) or with
DIR[=LABEL] arguments; see ../../figs/sops.py."""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
from figs.sops import main  # noqa: E402

if __name__ == '__main__':
    main()
