"""Reproduce the seeds' result tables: one command per table, one record per row.

* :mod:`.tables`: the rows of each table (what to run, the paper's numbers) -- data only;
* :mod:`.context`: the run context every command is given once and hands down (root, data, threads, python,
  echo, and the store its records are read and written through);
* :mod:`.runner`: train -> inference -> simulate -> record for a row, by running the workspace scripts
  (the same command lines a user types), skipped when finished and resumed after a kill;
* :mod:`.report`: RESULTS.md written from the records.
"""
