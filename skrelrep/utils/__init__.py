"""Private helpers shared by every part of skrelrep: the bottom layer.

Nothing here is public API. The modules import nothing from the rest of the package:

- ``_compat``: the private scikit-learn names skrelrep uses, and only there;
- ``_array_api``: moving arrays between namespaces (NumPy, torch, ...), taking rows;
- ``_norms``: row norms and unit rows that keep zero rows at zero and cannot
  overflow or underflow;
- ``_statistics``: feature spreads and near-mean rows, with rounding tolerances;
- ``_finite``: scikit-learn's check for NaN and infinity without its spurious
  warning near the dtype's largest value;
- ``_warnings``: warnings that point at the caller's line;
- ``_chunks``: rows per chunk within scikit-learn's ``working_memory``;
- ``_threads``: row pieces worked on by several threads, each with a single-threaded
  BLAS, and a counted single-threaded BLAS limit;
- ``_dask``: blockwise functions on dask arrays (imported only for dask input);
- ``_progress``: progress bars for long work;
- ``_atomic``: files written whole or not at all, and writable-folder checks.
"""

__all__ = []
