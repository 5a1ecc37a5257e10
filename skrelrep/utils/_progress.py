"""Progress bars for long work: shown where a person is watching, quiet elsewhere.

One rule decides for every bar of the package (the encoders' ``verbose``, the
experiments' and the command line's ``show_progress``); see :func:`progress_wanted`.
tqdm draws the bars when it is installed; without it there are none, and no error.
"""

import os
import sys

__all__ = ["progress", "progress_bar", "progress_wanted"]

# Values of TQDM_DISABLE and CI that mean "not set" (tqdm itself reads any non-empty
# TQDM_DISABLE as true, even "0"; an explicit "0" or "false" is read as intended here).
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in _FALSE_WORDS


def _in_notebook():
    """Whether this process is a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")  # a kernel has imported it; never import it
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # an unusual shell: not a notebook we know how to draw in
        return False


def _is_tty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # None, closed or detached streams
        return False


def progress_wanted(verbose=None):
    """Whether to show a progress bar: ``verbose`` forces it, else who is watching.

    The rule, first match wins:

    1. ``verbose`` given (``True``/``False`` or an int: nonzero is on) decides, like an
       argument passed to tqdm, which beats tqdm's environment variables;
    2. ``TQDM_DISABLE`` set (to anything but ``""``, ``0``, ``false``, ``no``,
       ``off``): off;
    3. ``CI`` set likewise (GitHub Actions, GitLab, Travis and others set
       ``CI=true``): off, even where the runner allocates a terminal;
    4. a Jupyter notebook: on (tqdm.auto draws a widget there);
    5. otherwise on exactly when ``sys.stderr`` (where the bars are written) is a
       terminal: tqdm's own ``disable=None``.

    Tests need no rule of their own: pytest's output capture replaces
    ``sys.stderr`` with a file that is not a terminal, so they are quiet; under
    ``pytest -s`` in a terminal a person is watching, and the bars show.

    Parameters
    ----------
    verbose : bool, int or None, default=None
        ``None`` decides by the environment (rules 2 to 5).

    Returns
    -------
    wanted : bool
    """
    if verbose is not None:
        return bool(verbose)
    if _env_flag("TQDM_DISABLE") or _env_flag("CI"):
        return False
    return _in_notebook() or _is_tty(sys.stderr)


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm comes with the report, text, vision and words extras
        return None
    return tqdm


def progress(
    iterable, *, description=None, total=None, enabled=None, unit="it", leave=False
):
    """Wrap ``iterable`` in a progress bar when :func:`progress_wanted` says so.

    Parameters
    ----------
    iterable : iterable
    description : str, default=None
        Label shown before the bar.
    total : int, default=None
        Number of items, when ``len(iterable)`` is not available.
    enabled : bool, int or None, default=None
        Passed to :func:`progress_wanted` as ``verbose``: ``None`` decides by the
        environment, ``True`` forces a bar, ``False`` returns ``iterable`` unchanged.
    unit : str, default="it"
        What one item is called on the bar ("batch", ...).
    leave : bool, default=False
        Keep the finished bar on screen.

    Returns
    -------
    iterable
    """
    tqdm = _tqdm() if progress_wanted(enabled) else None
    if tqdm is None:
        return iterable
    # disable=False: the decision is made above (tqdm's None would redo the TTY test
    # and hide a forced bar, and read TQDM_DISABLE over an explicit verbose=True).
    return tqdm(
        iterable, desc=description, total=total, unit=unit, leave=leave, disable=False
    )


class _NoBar:
    """What :func:`progress_bar` returns when no bar is shown."""

    def update(self, n=1):
        pass

    def close(self):
        pass


def progress_bar(*, total, description=None, unit="it", leave=True, enabled=None):
    """A bar advanced by hand (``update``, ``close``), or a silent stand-in.

    For work that reports through callbacks rather than a loop (gensim's epochs).
    Parameters as in :func:`progress`.
    """
    tqdm = _tqdm() if progress_wanted(enabled) else None
    if tqdm is None:
        return _NoBar()
    return tqdm(total=total, desc=description, unit=unit, leave=leave, disable=False)
