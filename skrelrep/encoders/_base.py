"""Shared machinery of the frozen pretrained encoders.

Optional packages are imported only when an encoder first needs them, and a missing one
raises an :class:`ImportError` that names the install line. Loaded models live in a
process-wide cache (keyed by model and device), not on the estimator: clones made by
cross-validation reuse them, and a pickled encoder holds only its parameters.

The options every encoder shares (``batch_size``, ``device``, ``verbose``, and
``normalize`` and ``max_length`` where the model allows them) are declared here
once, with their validation and their documentation, :data:`PARAMETER_DOCS`.
"""

import contextlib
import importlib
import numbers
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
from ..utils._compat import Interval, StrOptions, _fit_context
from ..utils._docstrings import fill_doc
from ..utils._norms import normalize_rows
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

# The options every frozen encoder takes, with one meaning and one validation.
COMMON_CONSTRAINTS = {
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "device": [StrOptions({"auto", "cpu", "cuda"})],
    "verbose": ["verbose", None],
}
# Options of the encoders whose model allows them.
NORMALIZE_CONSTRAINT = ["boolean"]
# Word pieces per text: the BERT-style models have 512 positions, and a text of
# fewer than 3 pieces would hold nothing but its special tokens.
MAX_LENGTH_CONSTRAINT = [Interval(numbers.Integral, 3, 512, closed="both")]

# The entries of the shared options, written once (see utils/_docstrings.py).
# ``$devices`` and ``$device_note`` let an encoder say where its model can run.
PARAMETER_DOCS = {
    "normalize": """normalize : bool, default=$default
    Scale each embedding to unit L2 norm (a zero embedding stays zero); cosine
    similarities are the same either way. See :ref:`encoder_options`.""",
    "max_length": """max_length : int, default=$default
    Word pieces kept per text, special tokens included (at most 512); the rest of a
    longer text is cut off. See :ref:`encoder_options`.""",
    "batch_size": """batch_size : int, default=$default
    Inputs per forward pass. Only speed and memory depend on it: embeddings agree to
    float32 rounding across batch sizes.""",
    "device": """device : $devices, default=$default
    Where the model runs; ``"auto"`` picks the GPU when the model can use one and
    one is visible.$device_note See :ref:`encoder_options`.""",
    "verbose": """verbose : bool, int or None, default=$default
    Progress bars on stderr: ``None`` shows them only where a person is watching
    (see :ref:`encoder_options`), ``True`` forces them, ``False`` hides them.""",
}


def encoder_doc(**context):
    """Fill a class docstring's ``{{option}}`` lines from :data:`PARAMETER_DOCS`."""
    context = {"devices": '{"auto", "cpu", "cuda"}', "device_note": "", **context}
    return fill_doc(PARAMETER_DOCS, **context)


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


def resolve_torch_device(device, *, owner):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible to torch, else ``"cpu"``.

    ``"cuda"`` without a GPU is an error, not a silent fall-back to the CPU.
    """
    if device == "cpu":
        return device
    torch = importlib.import_module("torch")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ValueError(
            f"{owner} got device={device!r}, but torch sees no CUDA GPU on this "
            "machine (or this torch build has no CUDA): use device='cpu' or 'auto'."
        )
    return device


class FrozenEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the pretrained encoders: ``fit`` trains nothing.

    Subclasses set ``_embedding_dim`` (int or property) and ``_requirements`` (module
    name → extra), and implement ``_check_input(X)`` (returns the validated input as a
    list or an array), ``_model_key()``, ``_load_model()`` and
    ``_embed(model, batch)`` (returns float32 rows, before any ``normalize``).
    ``_order(X)`` may return a permutation that makes batches cheaper (texts of
    similar length together); the output is put back in input order. A subclass
    with a ``normalize`` parameter gets its embeddings scaled to unit norm here.
    """

    _requirements: dict = {}
    _parameter_constraints: dict = dict(COMMON_CONSTRAINTS)

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
            embedded = self._embed(model, take_rows(X, rows))
            if getattr(self, "normalize", False):
                embedded = normalize_rows(embedded, np)
            out[rows] = embedded
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
