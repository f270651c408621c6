"""Firing sparsity of this workspace's SNN logs: ``python sparsity.py`` here (every log folder below) or with
DIR[=LABEL] arguments; see ../../figs/sparsity.py."""
from figs.sparsity import main

if __name__ == '__main__':
    main()
