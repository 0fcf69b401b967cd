"""Batch execution of large registers: chunked tasks run by a local process pool or a Dask cluster, with progress."""
