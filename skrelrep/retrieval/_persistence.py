"""Load a bridge saved with skops, trusting only the types of known packages.

A ``.skops`` file is data: :func:`skops.io.load` builds an object only from the
types the caller trusts, and never unpickles. :func:`load_bridge` lists the types a
file asks for (:func:`skops.io.get_untrusted_types`) and trusts them only when each
is a class of skrelrep, scikit-learn, NumPy or SciPy and not one that skops itself
marks unsafe to trust (``skops.io.exceptions.UNTRUSTED_TYPE_REASONS``: classes whose
content is used without bounds checks); any other name (a function such as
``os.system``, a class of another package) refuses the whole file before anything
in it is built. A file whose object is not a
:class:`~skrelrep.retrieval.QueryBridge` is refused too.
"""

import importlib
import os

__all__ = ["TRUSTED_PACKAGES", "load_bridge"]

TRUSTED_PACKAGES = ("skrelrep", "sklearn", "numpy", "scipy")


def _trusted_class(name, unsafe):
    """Whether dotted ``name`` is a class of one of :data:`TRUSTED_PACKAGES`."""
    if name.split(".")[0] not in TRUSTED_PACKAGES or name in unsafe:
        return False
    module_name, _, attribute = name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return isinstance(getattr(module, attribute, None), type)


def load_bridge(path):
    """Load a :class:`QueryBridge` saved with :func:`skops.io.dump`.

    The file's types are checked first: only classes of skrelrep, scikit-learn,
    NumPy and SciPy are trusted, and nothing is unpickled (see :ref:`migration`).

    Parameters
    ----------
    path : str or path-like
        A ``.skops`` file, such as the ``bridge.skops`` of ``skrelrep migrate
        plan``.

    Returns
    -------
    bridge : QueryBridge
        The fitted bridge.

    Raises
    ------
    ValueError
        The file names a type outside those packages (a function, or a class of
        another package), or holds something other than a bridge.

    Examples
    --------
    >>> import numpy as np, skops.io, tempfile, os
    >>> from skrelrep.retrieval import QueryBridge, load_bridge
    >>> rng = np.random.RandomState(0)
    >>> old = rng.normal(size=(200, 8))
    >>> bridge = QueryBridge(max_epochs=0, random_state=0).fit(old[:50], old[:50])
    >>> path = os.path.join(tempfile.mkdtemp(), "bridge.skops")
    >>> skops.io.dump(bridge, path)
    >>> type(load_bridge(path)).__name__
    'QueryBridge'
    """
    import skops.io
    from skops.io.exceptions import UNTRUSTED_TYPE_REASONS

    from ._bridge import QueryBridge

    path = os.fspath(path)
    asked = skops.io.get_untrusted_types(file=path)
    refused = sorted(
        name for name in asked if not _trusted_class(name, UNTRUSTED_TYPE_REASONS)
    )
    if refused:
        raise ValueError(
            f"{path}: refused, it names types outside "
            f"{', '.join(TRUSTED_PACKAGES)}: {', '.join(refused)}. A file saved by "
            "skrelrep migrate plan or skops.io.dump(bridge) names none; load a file "
            "you trust with skops.io.load(path, trusted=[...])."
        )
    bridge = skops.io.load(path, trusted=list(asked))
    if not isinstance(bridge, QueryBridge):
        raise ValueError(f"{path}: holds a {type(bridge).__name__}, not a QueryBridge.")
    return bridge
