"""Synaptic operations per image of this workspace's SNN logs: ``python sops.py`` here (every log folder below) or with
DIR[=LABEL] arguments; see ../../figs/sops.py."""
from figs.sops import main

if __name__ == '__main__':
    main()
