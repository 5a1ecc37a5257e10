"""Test configuration shared by tests/ and the doctests in skrelrep/."""

import importlib.util
import os

# SciPy reads this once, at import: it must be set before anything imports scipy so
# that array-api-strict inputs are supported (scikit-learn's array API checks need it).
os.environ.setdefault("SCIPY_ARRAY_API", "1")


def _missing(*modules):
    """Whether any of ``modules`` cannot be imported."""
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return True
        except (ImportError, ValueError):
            return True
    return False


# skrelrep.neural needs the torch extra: without it, skip collecting its doctests (its
# own conftest imports torch); tests/test_neural.py skips itself.
collect_ignore = ["skrelrep/neural"] if _missing("torch", "skorch") else []
