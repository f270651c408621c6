"""Locating and reading the data sets; N-MNIST events -> frames; ImageNet TFRecords (imports core only)."""
