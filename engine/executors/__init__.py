"""Executors that run engine/batch.py's tasks beyond this machine's process pool (see dask.py)."""
