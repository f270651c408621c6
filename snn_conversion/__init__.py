"""The project's own library above the workspace scripts.

``snn_conversion.reproduce``: the papers' result tables as resumable runs (``python reproduce.py``) and
RESULTS.md generated from their records.
"""
