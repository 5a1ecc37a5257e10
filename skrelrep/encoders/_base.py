"""Shared machinery of the frozen pretrained encoders.

Optional packages are imported only when an encoder first needs them, and a missing one
raises an :class:`ImportError` that names the install line. Loaded models live in a
process-wide cache (keyed by model and device), not on the estimator: clones made by
cross-validation reuse them, and a pickled encoder holds only its parameters.
"""

import contextlib
import importlib
import os
import sys
import threading

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)

from ..utils._array_api import take_rows
from ..utils._compat import StrOptions, _fit_context
from ..utils._progress import progress

__all__ = ["clear_model_cache"]

# The extras that pull torch (sentence-transformers and efficientnet-lite-pytorch
# depend on it). pip keeps an installed torch whose version fits, so the build a user
# wants (CPU or CUDA) goes in first; a pinned version in the hint would replace it.
_TORCH_EXTRAS = frozenset({"torch", "text", "vision"})


def install_hint(extra):
    """The install command for an extra, and how to keep one's own torch build.

    The command stands alone on the first line: the experiments' reports and the
    command line show that line as the command to run.
    """
    hint = (
        f'pip install "skrelrep[{extra}]"\n(from a checkout: pip install ".[{extra}]")'
    )
    if extra in _TORCH_EXTRAS:
        hint += (
            f'. The "{extra}" extra needs torch: install the torch build you want '
            "first (CPU or CUDA, as pytorch.org says); pip keeps an installed torch "
            "whose version fits"
        )
    return hint + "."


_MODEL_CACHE = {}
_CACHE_LOCK = threading.Lock()

# Constraint shared by the encoders that can run on a GPU.
DEVICE_OPTIONS = StrOptions({"auto", "cpu", "cuda"})


def clear_model_cache():
    """Drop every loaded pretrained model, freeing its memory.

    Encoders load their model on first use and share it process-wide; the next
    ``transform`` after this call loads it again.

    Examples
    --------
    >>> from skrelrep.encoders import clear_model_cache
    >>> clear_model_cache()  # doctest: +SKIP
    """
    with _CACHE_LOCK:
        _MODEL_CACHE.clear()


def cached_model(key, loader):
    """Return the model cached under ``key``, loading it with ``loader()`` once."""
    with _CACHE_LOCK:
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = loader()
        return _MODEL_CACHE[key]


def import_optional(module, *, extra, owner):
    """Import ``module`` or raise an ImportError that names the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{owner} needs the optional package {module!r}, which is not "
            f"installed. Install it with: {install_hint(extra)}"
        ) from exc


@contextlib.contextmanager
def hub_offline():
    """Forbid Hugging Face hub calls while a bundled model loads.

    The models ship inside packages; a hub call could only be a download attempt,
    which fails (slowly) on machines without internet. huggingface_hub reads these
    variables when it is first imported, so they must be set before that import.
    """
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))
    # Already imported, huggingface_hub keeps what it read then: override that too.
    constants = sys.modules.get("huggingface_hub.constants")
    saved_constant = getattr(constants, "HF_HUB_OFFLINE", None)
    if constants is not None:
        constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = saved_constant
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def resolve_torch_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible to torch, else ``"cpu"``."""
    if device != "auto":
        return device
    torch = importlib.import_module("torch")
    return "cuda" if torch.cuda.is_available() else "cpu"


class FrozenEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the pretrained encoders: ``fit`` trains nothing.

    Subclasses set ``_embedding_dim`` (int or property) and ``_requirements`` (module
    name → extra), and implement ``_check_input(X)`` (returns the validated input as a
    list or an array), ``_model_key()``, ``_load_model()`` and
    ``_embed(model, batch)`` (returns float32 rows). ``_order(X)`` may return a
    permutation that makes batches cheaper (texts of similar length together); the
    output is put back in input order.
    """

    _requirements: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input and that the encoder's packages are installed.

        The encoder is pretrained and frozen: nothing is learnt, and ``transform``
        works without calling ``fit`` (``fit`` exists for pipelines).

        Parameters
        ----------
        X : array-like
            Inputs of the kind ``transform`` accepts; only validated.

        y : None
            Ignored.

        Returns
        -------
        self : object
            The encoder, unchanged.
        """
        self._check_input(X)
        self._import_requirements()
        return self

    def transform(self, X):
        """Embed ``X`` with the pretrained model, batch by batch.

        Parameters
        ----------
        X : array-like
            Inputs of the kind described in the class docstring.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out), dtype float32
            One embedding per input, in input order.
        """
        # Frozen encoders may be used unfitted, so parameters are checked here too.
        self._validate_params()
        X = self._check_input(X)
        model = self._get_model()
        n = len(X)
        order = self._order(X)
        out = np.empty((n, self._embedding_dim), dtype=np.float32)
        starts = range(0, n, self.batch_size)
        for start in progress(
            starts,
            total=len(starts),
            enabled=self.verbose,
            description=type(self).__name__,
            unit="batch",
            leave=True,
        ):
            rows = np.arange(start, min(start + self.batch_size, n))
            if order is not None:
                rows = order[rows]
            out[rows] = self._embed(model, take_rows(X, rows))
        return out

    def _get_model(self):
        self._import_requirements()
        with hub_offline():
            return cached_model(self._model_key(), self._load_model)

    def _import_requirements(self):
        # Offline already at import time: huggingface_hub reads the switch then.
        with hub_offline():
            return {
                module: import_optional(module, extra=extra, owner=type(self).__name__)
                for module, extra in self._requirements.items()
            }

    def _order(self, X):
        return None

    @property
    def _n_features_out(self):
        """Number of output features, known without fitting (used for names out)."""
        return self._embedding_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        return tags
