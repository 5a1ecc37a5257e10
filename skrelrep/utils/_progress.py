"""Progress reporting for long work: tqdm when installed, silence otherwise."""

__all__ = ["progress"]


def progress(
    iterable, *, description=None, total=None, enabled=True, unit="it", leave=False
):
    """Wrap ``iterable`` in a progress bar when ``enabled`` and tqdm is installed.

    Parameters
    ----------
    iterable : iterable
    description : str, default=None
        Label shown before the bar.
    total : int, default=None
        Number of items, when ``len(iterable)`` is not available.
    enabled : bool, default=True
        False returns ``iterable`` unchanged.
    unit : str, default="it"
        What one item is called on the bar ("batch", ...).
    leave : bool, default=False
        Keep the finished bar on screen.

    Returns
    -------
    iterable
    """
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is in the "report" extra; without it, no bar
        return iterable
    return tqdm(iterable, desc=description, total=total, unit=unit, leave=leave)
