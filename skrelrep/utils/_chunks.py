"""How many rows a chunked computation takes at once."""

from sklearn import get_config

__all__ = ["chunk_n_rows"]


def chunk_n_rows(n_samples, bytes_per_row, batch_size=None, max_bytes=None):
    """Rows per chunk: ``batch_size`` if given, else what fits ``working_memory``.

    ``working_memory`` is scikit-learn's budget for chunked work, in MiB (see
    :func:`sklearn.set_config`); ``max_bytes``, when given, caps it (a fixed budget
    whatever ``working_memory`` says). At least one row, at most ``n_samples``.
    """
    if batch_size is not None:
        return max(1, min(int(batch_size), n_samples))
    budget = get_config()["working_memory"] * 2**20
    if max_bytes is not None:
        budget = min(budget, max_bytes)
    return int(max(1, min(n_samples, budget // max(1, bytes_per_row))))
