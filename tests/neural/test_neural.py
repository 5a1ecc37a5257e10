"""Tests for skrelrep.neural: torch modules, the relative layer, the skorch nets.

The stitching evidence trains small nets on scikit-learn digits with two seeds and
checks the paper's claim: swapping in another seed's encoder keeps most of the
accuracy through relative representations and falls to chance through absolute ones.
"""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from scipy.stats import ortho_group  # noqa: E402
from sklearn.base import BaseEstimator, clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skrelrep import (  # noqa: E402
    RelativeTransformer,
    StitchedPipeline,
    stitch,
)
from skrelrep.neural import (  # noqa: E402
    AutoEncoder,
    CNNEncoderModule,
    MLPDecoderModule,
    MLPEncoderModule,
    NeuralEncoder,
    RelativeAutoEncoder,
    RelativeClassifier,
    RelativeProjection,
)
from skrelrep.neural._relative_layer import _cosine_to_anchors  # noqa: E402
from skrelrep.similarity._cosine import cosine_projection  # noqa: E402

CHANCE = 0.1  # ten balanced digit classes
SMALL = dict(module__n_components=8, module__hidden_units=(32,), max_epochs=2)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Tiny nets and small solvers: threads cost more than they save, and spinning
    # BLAS threads crawl on a machine whose cores are busy.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(n_threads)


@pytest.fixture(scope="module")
def digits32(digits):
    """The digits in float32 (the nets' dtype): 1000 training rows, the rest to test."""
    X, y = digits
    X = X.astype(np.float32)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture(scope="module")
def small_digits(digits32):
    X, y, _, _ = digits32
    return X[:300], y[:300]


def _weights(module):
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- optional dependency -----------------------------------------------------------------
def test_core_imports_without_torch_and_neural_names_the_extra():
    # A fresh interpreter in which torch and skorch cannot be imported.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in {'torch', 'skorch'}:\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import skrelrep\n"
        "assert 'torch' not in sys.modules\n"
        "try:\n"
        "    import skrelrep.neural\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert 'pip install "skrelrep[torch]"' in result.stdout


# -- modules ------------------------------------------------------------------------------
def test_mlp_encoder_flattens_images():
    encoder = MLPEncoderModule(n_features=64, n_components=5, hidden_units=())
    images = torch.randn(3, 1, 8, 8)
    assert torch.equal(encoder(images), encoder(images.reshape(3, 64)))


def test_cnn_encoder_reads_images_in_every_layout():
    torch.manual_seed(0)
    encoder = CNNEncoderModule(n_components=6, in_channels=2, image_size=(5, 7))
    images = torch.randn(4, 2, 5, 7)
    codes = encoder(images)
    assert codes.shape == (4, 6)
    assert torch.equal(encoder(images.reshape(4, -1)), codes)
    gray = CNNEncoderModule(n_components=3)
    assert gray(torch.randn(2, 8, 8)).shape == (2, 3)


@pytest.mark.parametrize(
    "encoder, X, match",
    [
        (CNNEncoderModule(), torch.zeros(2, 64), "Pass image_size"),
        (CNNEncoderModule(image_size=8), torch.zeros(2, 63), "expected 64 features"),
    ],
)
def test_cnn_encoder_rejects_inputs_it_cannot_reshape(encoder, X, match):
    with pytest.raises(ValueError, match=match):
        encoder(X)


def test_mlp_decoder_output_activation():
    decoder = MLPDecoderModule(4, 9, output_activation=torch.nn.Sigmoid)
    out = decoder(100 * torch.randn(5, 4))
    assert out.shape == (5, 9) and bool(((out >= 0) & (out <= 1)).all())


# -- the relative layer --------------------------------------------------------------------
def _layer(center=False, normalization=None, n_anchors=7, seed=0):
    torch.manual_seed(seed)
    encoder = MLPEncoderModule(n_features=5, n_components=4, hidden_units=(6,))
    return RelativeProjection(
        encoder, torch.randn(n_anchors, 5), center=center, normalization=normalization
    )


# The tiny random encoder's codes crowd; the warning says so, the test is about
# agreement.
@pytest.mark.filterwarnings("ignore:The anchors crowd")
@pytest.mark.parametrize("center", [False, True])
def test_layer_cosine_agrees_with_relative_transformer(center):
    layer = _layer(center=center)
    x = torch.randn(11, 5)
    with torch.no_grad():
        got = layer(x).numpy()
        codes = layer.encoder(x).numpy().astype(np.float64)
        anchor_codes = layer.encoder(layer.anchors).numpy().astype(np.float64)
    reference = RelativeTransformer(n_anchors=None, center=center).fit(anchor_codes)
    np.testing.assert_allclose(got, reference.transform(codes), atol=1e-5)
    mean = anchor_codes.mean(axis=0) if center else None
    prepared = anchor_codes - (0 if mean is None else mean)
    prepared /= np.linalg.norm(prepared, axis=1, keepdims=True)
    kernel = cosine_projection(codes, prepared, np, mean=mean)
    np.testing.assert_allclose(got, kernel, atol=1e-5)


def test_zero_code_projects_to_zero_like_the_core():
    codes = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    anchors = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    expected = cosine_projection(codes.numpy(), np.array([[1.0, 0], [0, 1]]), np)
    np.testing.assert_allclose(_cosine_to_anchors(codes, anchors), expected)


@pytest.mark.parametrize("normalization", [None, "layernorm"])
@pytest.mark.parametrize("center", [False, True])
def test_layer_output_is_unchanged_when_the_encoder_is_rotated(center, normalization):
    layer = _layer(center=center, normalization=normalization)
    Q = torch.as_tensor(ortho_group.rvs(4, random_state=0), dtype=torch.float32)
    rotate = torch.nn.Linear(4, 4, bias=center)  # a shift too, when centring
    with torch.no_grad():
        rotate.weight.copy_(2.5 * Q)  # isotropic scaling is harmless as well
        if center:
            rotate.bias.copy_(torch.randn(4))
    rotated = layer.with_encoder(torch.nn.Sequential(layer.encoder, rotate))
    x = torch.randn(9, 5)
    with torch.no_grad():
        assert not torch.allclose(layer.encoder(x), rotated.encoder(x), atol=1e-3)
        torch.testing.assert_close(rotated(x), layer(x), atol=2e-5, rtol=1e-4)


def test_layer_is_not_invariant_to_a_shift_without_centring():
    layer = _layer(center=False)
    shift = torch.nn.Linear(4, 4)
    with torch.no_grad():
        shift.weight.copy_(torch.eye(4))
        shift.bias.fill_(3.0)
    shifted = layer.with_encoder(torch.nn.Sequential(layer.encoder, shift))
    x = torch.randn(9, 5)
    with torch.no_grad():
        assert not torch.allclose(shifted(x), layer(x), atol=1e-2)


def test_gradients_flow_through_the_anchor_embeddings():
    layer = _layer(center=True, normalization="layernorm").double()
    x = torch.randn(6, 5, dtype=torch.float64)
    weight = layer.encoder.layers[0].weight
    # Analytic gradients (both paths through the encoder) match finite differences.
    assert torch.autograd.gradcheck(
        lambda w: torch.func.functional_call(
            layer, {"encoder.layers.0.weight": w}, (x,)
        ),
        (weight.detach().clone().requires_grad_(),),
    )
    # ...and the anchor path carries part of them.
    (grad_full,) = torch.autograd.grad(layer(x).square().sum(), weight)
    with torch.no_grad():
        anchor_codes = layer.encoder(layer.anchors)
    detached = _cosine_to_anchors(
        layer.encoder(x), anchor_codes, center=True
    )  # anchors treated as constants
    (grad_batch_only,) = torch.autograd.grad(
        layer.norm(detached).square().sum(), weight
    )
    assert not torch.allclose(grad_full, grad_batch_only)


def test_layer_anchors_are_a_buffer_that_follows_the_module():
    layer = _layer(normalization="layernorm")
    assert "anchors" in layer.state_dict()
    assert not any(p is layer.anchors for p in layer.parameters())
    # The meta device stands in for an accelerator: nothing in forward may pin
    # tensors to the CPU.
    meta = copy.deepcopy(layer).to("meta")
    assert meta.anchors.device.type == "meta"
    out = meta(torch.empty(3, 5, device="meta"))
    assert out.device.type == "meta" and out.shape == (3, 7)
    doubled = copy.deepcopy(layer).double()
    assert doubled.anchors.dtype == torch.float64


def test_layer_with_encoder_keeps_the_original_and_checks_anchor_count():
    layer = _layer(normalization="layernorm")
    before = _weights(layer)
    other = MLPEncoderModule(n_features=3, n_components=2)
    swapped = layer.with_encoder(other, anchors=torch.randn(7, 3))
    assert swapped.encoder is other and layer.encoder is not other
    assert _same_weights(_weights(layer), before)
    assert torch.equal(swapped.norm.weight, layer.norm.weight)
    assert swapped.norm.weight is not layer.norm.weight
    with pytest.raises(ValueError, match="one input per anchor"):
        layer.with_encoder(other, anchors=torch.randn(6, 3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(normalization="batchnorm"), "normalization must be one of"),
        (dict(anchors=torch.zeros(0, 5)), "at least one anchor"),
        (dict(anchors=torch.zeros(1, 5), center=True), "at least 2 anchors"),
    ],
)
def test_layer_rejects_bad_arguments(kwargs, match):
    params = {"encoder": torch.nn.Identity(), "anchors": torch.zeros(3, 5), **kwargs}
    with pytest.raises(ValueError, match=match):
        RelativeProjection(**params)


# -- the nets: scikit-learn behaviour ------------------------------------------------------
@pytest.mark.parametrize(
    "Net", [NeuralEncoder, AutoEncoder, RelativeClassifier, RelativeAutoEncoder]
)
def test_seeds_reproduce_and_differ_without_touching_global_rng(Net, small_digits):
    X, y = small_digits
    params = dict(SMALL)
    if Net in (RelativeClassifier, RelativeAutoEncoder):
        params["n_anchors"] = 20
    state = torch.get_rng_state()
    nets = [Net(**params, random_state=seed).fit(X, y) for seed in (0, 0, 1)]
    assert torch.equal(torch.get_rng_state(), state)
    first, same, other = (_weights(net.module_) for net in nets)
    assert _same_weights(first, same)
    assert not any(torch.equal(first[k], other[k]) for k in first)
    codes = nets[0].transform(X[:5])
    assert codes.dtype == np.float32
    np.testing.assert_array_equal(codes, nets[1].transform(X[:5]))


def test_neural_encoder_transform_is_the_encoders_code(small_digits):
    X, y = small_digits
    net = NeuralEncoder(**SMALL, random_state=0).fit(X.astype(np.float64), y)
    with torch.no_grad():
        expected = net.module_(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(net.transform(X), expected, rtol=1e-6)
    assert net.transform(X).shape == (300, 8)
    assert net.get_feature_names_out().tolist()[:2] == [
        "neuralencoder0",
        "neuralencoder1",
    ]
    # batching does not change the result
    np.testing.assert_array_equal(
        net.set_params(batch_size=7).transform(X), net.transform(X)
    )


def test_tensor_inputs_give_what_arrays_give(small_digits):
    X, y = small_digits
    params = dict(SMALL, n_anchors=20, random_state=0)
    from_array = RelativeClassifier(**params).fit(X, y)
    from_tensor = RelativeClassifier(**params).fit(torch.as_tensor(X).double(), y)
    assert from_tensor.n_features_in_ == 64 and from_tensor.input_shape_ == (64,)
    np.testing.assert_array_equal(from_tensor.anchor_inputs_, from_array.anchor_inputs_)
    np.testing.assert_array_equal(
        from_tensor.transform(torch.as_tensor(X[:9])), from_array.transform(X[:9])
    )


def test_classifier_labels_round_trip(small_digits):
    X, y = small_digits
    labels = np.array(list("abcdefghij"))[y]
    for Net in (NeuralEncoder, RelativeClassifier):
        net = (
            Net(**SMALL, random_state=0, n_anchors=20)
            if Net is RelativeClassifier
            else Net(**SMALL, random_state=0)
        )
        net.fit(X, labels)
        assert net.classes_.tolist() == list("abcdefghij")
        assert set(net.predict(X)) <= set(labels)
        proba = net.predict_proba(X[:4])
        assert proba.shape == (4, 10)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_partial_fit_needs_every_class_up_front(small_digits):
    X, y = small_digits
    net = NeuralEncoder(**SMALL, random_state=0)
    net.partial_fit(X[y < 5], y[y < 5], classes=np.arange(10))
    assert net.head_.n_outputs == 10
    net.partial_fit(X[y >= 5], y[y >= 5])
    assert len(net.history) == 2 * SMALL["max_epochs"]
    fresh = NeuralEncoder(**SMALL).partial_fit(X[y < 5], y[y < 5])
    with pytest.raises(ValueError, match="unseen before"):
        fresh.partial_fit(X[y >= 5], y[y >= 5])


def test_autoencoder_learns_to_reconstruct(small_digits):
    X, _ = small_digits
    ae = AutoEncoder(
        module__n_components=16,
        decoder__output_activation=torch.nn.Sigmoid,
        max_epochs=30,
        lr=1e-2,
        random_state=0,
    ).fit(X)
    losses = ae.history[:, "train_loss"]
    assert losses[-1] < 0.5 * losses[0]
    reconstruction = ae.inverse_transform(ae.transform(X))
    assert reconstruction.shape == X.shape
    baseline = np.mean((X - X.mean(axis=0)) ** 2)  # predicting the mean image
    assert np.mean((reconstruction - X) ** 2) < 0.7 * baseline


def test_cnn_encoder_on_images_and_flat_rows(small_digits):
    X, y = small_digits
    images = X.reshape(-1, 1, 8, 8)
    params = dict(
        module=CNNEncoderModule,
        module__n_components=8,
        module__channels=(4, 8),
        max_epochs=2,
        random_state=0,
    )
    net = NeuralEncoder(**params).fit(images, y)
    assert net.module_.in_channels == 1 and net.input_shape_ == (1, 8, 8)
    assert net.transform(images).shape == (300, 8)
    with pytest.raises(ValueError, match="samples of shape"):
        net.transform(X.reshape(-1, 1, 4, 16))
    flat = NeuralEncoder(**params, module__image_size=8).fit(X, y)
    np.testing.assert_allclose(flat.transform(X), net.transform(images), atol=1e-6)
    ae = RelativeAutoEncoder(**params, n_anchors=10).fit(images)
    assert ae.inverse_transform(ae.transform(images)).shape == images.shape


@pytest.mark.parametrize(
    "Net", [NeuralEncoder, AutoEncoder, RelativeClassifier, RelativeAutoEncoder]
)
def test_clone_pickle_and_deepcopy(Net, small_digits):
    X, y = small_digits
    params = dict(SMALL, random_state=0)
    if Net in (RelativeClassifier, RelativeAutoEncoder):
        params.update(n_anchors=20, center=True)
    net = Net(**params).fit(X, y)
    unfitted = clone(net)
    with pytest.raises(NotFittedError):
        unfitted.transform(X)
    assert unfitted.get_params()["module__n_components"] == 8
    refitted = unfitted.fit(X, y)
    assert _same_weights(_weights(refitted.module_), _weights(net.module_))
    for copied in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        np.testing.assert_array_equal(copied.transform(X[:9]), net.transform(X[:9]))
        if hasattr(net, "relative_"):  # one encoder, shared by the relative layer
            assert copied.relative_.encoder is copied.module_


def test_nets_validate_parameters_and_inputs(small_digits):
    X, y = small_digits
    with pytest.raises(InvalidParameterError, match="random_state"):
        NeuralEncoder(random_state="zero").fit(X, y)
    with pytest.raises(InvalidParameterError, match="n_anchors"):
        RelativeClassifier(n_anchors=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="normalization"):
        RelativeAutoEncoder(normalization="batch").fit(X)
    with pytest.raises(ValueError, match="needs class labels"):
        NeuralEncoder().fit(X, None)
    net = NeuralEncoder(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        net.transform(X[:, :10])
    with pytest.raises(ValueError, match="call fit"):
        RelativeClassifier().initialize()
    with pytest.raises(TypeError, match=r"Could not build module .* module__<arg"):
        NeuralEncoder(module=torch.nn.Linear).fit(X, y)
    with pytest.warns(UserWarning, match="every sample becomes an anchor"):
        RelativeAutoEncoder(n_anchors=50, max_epochs=1).fit(X[:20])


NETS_AND_CRITERIA = [
    (NeuralEncoder, torch.nn.CrossEntropyLoss),
    (AutoEncoder, torch.nn.MSELoss),
    (RelativeClassifier, torch.nn.CrossEntropyLoss),
    (RelativeAutoEncoder, torch.nn.MSELoss),
]


@pytest.mark.parametrize("Net, criterion", NETS_AND_CRITERIA)
def test_nets_share_the_defaults_and_pass_skorch_parameters_on(Net, criterion):
    params = Net().get_params(deep=False)
    assert params["module"] is MLPEncoderModule and params["criterion"] is criterion
    assert params["optimizer"] is torch.optim.Adam
    assert (params["lr"], params["max_epochs"], params["batch_size"]) == (1e-3, 20, 128)
    assert params["train_split"] is None and params["random_state"] is None
    assert params["verbose"] == 0
    if Net in (RelativeClassifier, RelativeAutoEncoder):
        assert (params["n_anchors"], params["anchor_selection"]) == (300, "random")
        assert (params["center"], params["normalization"]) == (False, "layernorm")
    net = Net(torch.nn.Identity, warm_start=True, lr=0.5, module__n_features=3)
    params = net.get_params(deep=False)
    assert params["module"] is torch.nn.Identity and params["warm_start"] is True
    assert params["lr"] == 0.5 and params["module__n_features"] == 3
    assert "_params_to_validate" not in params
    assert clone(net).get_params(deep=False) == params


@pytest.mark.parametrize(
    "Net", [NeuralEncoder, AutoEncoder, RelativeClassifier, RelativeAutoEncoder]
)
def test_parameters_are_validated_once_per_fit_before_anchors(
    Net, small_digits, monkeypatch
):
    X, y = small_digits
    log = []
    validate = BaseEstimator._validate_params

    def counting(self):
        if isinstance(self, Net):
            log.append("validate")
        return validate(self)

    def first_rows(X, y, n_anchors, random_state):
        log.append("select")
        return np.arange(n_anchors)

    monkeypatch.setattr(BaseEstimator, "_validate_params", counting)
    params = dict(SMALL, max_epochs=1, random_state=0)
    if Net in (RelativeClassifier, RelativeAutoEncoder):
        params.update(n_anchors=5, anchor_selection=first_rows)
    expected = ["validate", "select"] if "anchor_selection" in params else ["validate"]
    net = Net(**params)
    for _ in range(2):  # a refit validates once more
        log.clear()
        net.fit(X, y)
        assert log == expected
    log.clear()
    fresh = Net(**params).partial_fit(X, y, classes=np.unique(y))
    assert log == expected
    log.clear()
    fresh.partial_fit(X, y)  # later calls validate nothing
    assert log == []
    # initialize() called directly still validates, once.
    fitted = Net(**params).fit(X, y)
    log.clear()
    fitted.initialize()
    assert log == ["validate"]
    with pytest.raises(InvalidParameterError, match="random_state"):
        fitted.set_params(random_state="zero").initialize()


@pytest.mark.parametrize("Net", [RelativeClassifier, RelativeAutoEncoder])
@pytest.mark.parametrize(
    "selection, n_anchors",
    [
        ("random", 12),
        ("random", 0.05),
        ("stratified", 12),
        ("fps", 12),
        ("kmeans", 12),
        (np.arange(40, 0, -3), 5),
        (np.arange(40, 0, -3), None),
    ],
)
@pytest.mark.parametrize("seed", [0, 7])
def test_relative_nets_choose_the_anchors_relative_transformer_chooses(
    Net, selection, n_anchors, seed, small_digits
):
    X, y = small_digits
    images = X.reshape(-1, 1, 8, 8)  # the selection reads the flattened inputs
    params = dict(n_anchors=n_anchors, anchor_selection=selection, random_state=seed)
    net = Net(
        module=CNNEncoderModule,
        module__n_components=4,
        module__channels=(2,),
        max_epochs=1,
        **params,
    ).fit(images, y)
    reference = RelativeTransformer(**params).fit(X, y)
    np.testing.assert_array_equal(net.anchor_indices_, reference.anchor_indices_)
    np.testing.assert_array_equal(net.anchor_inputs_, images[net.anchor_indices_])
    if not isinstance(selection, str):  # indices: the first n_anchors of them
        np.testing.assert_array_equal(net.anchor_indices_, selection[:n_anchors])


def test_relative_anchor_selection_options(small_digits):
    X, y = small_digits
    indices = np.arange(0, 300, 15)
    net = RelativeAutoEncoder(**SMALL, anchor_selection=indices).fit(X)
    np.testing.assert_array_equal(net.anchor_indices_, indices)
    np.testing.assert_array_equal(net.anchor_inputs_, X[indices])
    stratified = RelativeClassifier(
        **SMALL, n_anchors=20, anchor_selection="stratified", random_state=0
    ).fit(X, y)
    assert np.bincount(y[stratified.anchor_indices_]).tolist() == [2] * 10
    assert RelativeAutoEncoder(**SMALL, n_anchors=0.1).fit(X).n_anchors_ == 30


def test_relative_transform_agrees_with_relative_transformer(small_digits):
    X, y = small_digits
    net = RelativeClassifier(**SMALL, n_anchors=25, center=True, random_state=0)
    net.fit(X, y)
    reference = RelativeTransformer(n_anchors=None, center=True).fit(
        net.encode(net.anchor_inputs_)
    )
    np.testing.assert_allclose(
        net.transform(X), reference.transform(net.encode(X)), atol=1e-5
    )


def test_nets_in_pipeline_and_grid_search(small_digits):
    X, y = small_digits
    pipe = Pipeline(
        [
            ("encoder", NeuralEncoder(**SMALL, random_state=0)),
            ("relative", RelativeTransformer(random_state=0)),
            ("decoder", LogisticRegression(max_iter=1000)),
        ]
    )
    grid = {"encoder__module__n_components": [4, 8], "relative__n_anchors": [10, 20]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    assert search.best_estimator_["encoder"].module_.n_components in (4, 8)
    assert search.best_estimator_["relative"].n_anchors_ in (10, 20)
    relative_search = GridSearchCV(
        RelativeClassifier(**SMALL, random_state=0), {"n_anchors": [5, 10]}, cv=2
    ).fit(X, y)
    assert relative_search.best_estimator_.n_anchors_ in (5, 10)


def test_set_output_pandas(small_digits):
    pytest.importorskip("pandas")
    X, y = small_digits
    net = NeuralEncoder(**SMALL).fit(X, y).set_output(transform="pandas")
    frame = net.transform(X[:3])
    assert frame.columns.tolist()[:2] == ["neuralencoder0", "neuralencoder1"]


# -- frozen encoders ------------------------------------------------------------------------
def test_frozen_encoder_is_not_retrained_and_survives_clone(small_digits):
    X, y = small_digits
    encoder = NeuralEncoder(**SMALL, random_state=0).fit(X, y)
    before = _weights(encoder.module_)
    n_epochs = len(encoder.history)
    pipe = Pipeline(
        [
            ("encoder", FrozenEstimator(encoder)),
            ("relative", RelativeTransformer(random_state=0)),
            ("decoder", LogisticRegression(max_iter=1000)),
        ]
    )
    search = GridSearchCV(pipe, {"relative__n_anchors": [10, 20]}, cv=2)
    search.fit(X[::-1], y[::-1])
    assert _same_weights(_weights(encoder.module_), before)
    assert len(encoder.history) == n_epochs
    best = search.best_estimator_["encoder"]
    assert best.estimator is encoder  # clone keeps the frozen, fitted encoder
    cloned = clone(pipe)
    assert cloned["encoder"].estimator is encoder
    np.testing.assert_array_equal(
        cloned.fit(X, y)["encoder"].transform(X[:5]), encoder.transform(X[:5])
    )


def test_with_encoder_accepts_frozen_nets_and_modules_and_rejects_others(small_digits):
    X, y = small_digits
    a = RelativeClassifier(**SMALL, n_anchors=20, random_state=0).fit(X, y)
    b = NeuralEncoder(**SMALL, random_state=1).fit(X, y)
    from_frozen = a.with_encoder(FrozenEstimator(b))
    from_module = a.with_encoder(b.module_)
    np.testing.assert_array_equal(from_frozen.predict(X), from_module.predict(X))
    assert from_frozen.module_ is not b.module_  # a copy: b is never trained by it
    with pytest.raises(TypeError, match="with_encoder expects"):
        a.with_encoder(LogisticRegression())
    wide = NeuralEncoder(**dict(SMALL, module__n_components=5)).fit(X, y)
    with pytest.raises(ValueError, match="different widths"):
        b.with_encoder(wide)
    with pytest.raises(ValueError, match="cannot read the anchor inputs"):
        a.with_encoder(MLPEncoderModule(n_features=10))


# -- the evidence: stitching across seeds -----------------------------------------------------
NETS = dict(module__n_components=16, module__hidden_units=(64,), max_epochs=20, lr=5e-3)


@pytest.fixture(scope="module")
def absolute_encoders(digits32):
    X, y, _, _ = digits32
    return [NeuralEncoder(**NETS, random_state=seed).fit(X, y) for seed in (0, 1)]


@pytest.fixture(scope="module")
def relative_nets(digits32):
    X, y, _, _ = digits32
    return [
        RelativeClassifier(**NETS, n_anchors=100, random_state=seed).fit(X, y)
        for seed in (0, 1)
    ]


def test_relative_stitching_of_encoders_keeps_accuracy_absolute_does_not(
    digits32, absolute_encoders
):
    # The paper's experiment with scikit-learn pieces: frozen encoders from two seeds,
    # a decoder per encoder, then every decoder on the other seed's encoder.
    X, y, X_test, y_test = digits32

    def pipeline(encoder, relative):
        return StitchedPipeline(
            FrozenEstimator(encoder), relative, LogisticRegression(max_iter=2000)
        ).fit(X, y)

    for kind in ("relative", "absolute"):
        relative = (
            RelativeTransformer(n_anchors=100, random_state=0)
            if kind == "relative"
            else "passthrough"
        )
        a, b = (pipeline(encoder, relative) for encoder in absolute_encoders)
        for decoder_from, encoder_from in ((a, b), (b, a)):
            same = decoder_from.score(X_test, y_test)
            via = "absolute" if kind == "absolute" else "relative"
            stitched = stitch(encoder_from, decoder_from, via=via).score(X_test, y_test)
            assert same > 0.85
            if kind == "relative":
                # measured: same 0.91-0.92, stitched 0.88
                assert stitched > 0.85 * same
            else:
                # measured: same 0.93, stitched 0.11-0.16 (chance 0.10)
                assert stitched < CHANCE + 0.2


def test_stitched_pipeline_trains_an_unfrozen_neural_encoder(small_digits):
    X, y = small_digits
    encoder = NeuralEncoder(**SMALL, random_state=0)
    # The decoders' convergence is not under test: enough iterations that rounding
    # in the codes cannot tip lbfgs over its limit.
    pipe = StitchedPipeline(
        encoder,
        RelativeTransformer(20, random_state=0),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    assert not hasattr(encoder, "module_")  # the pipeline fitted a clone
    other = StitchedPipeline(
        NeuralEncoder(**dict(SMALL, module__n_components=5), random_state=1),
        RelativeTransformer(20, random_state=0),
        LogisticRegression(max_iter=1000),
    ).fit(X, y)
    # relative stitching joins codes of different widths
    assert stitch(other, pipe).predict(X[:7]).shape == (7,)


def test_end_to_end_relative_nets_stitch_absolute_nets_do_not(
    digits32, absolute_encoders, relative_nets
):
    _, _, X_test, y_test = digits32
    for a, b in (relative_nets, relative_nets[::-1]):
        same = a.score(X_test, y_test)
        stitched = a.with_encoder(b).score(X_test, y_test)
        # measured: same 0.91-0.92, stitched 0.87
        assert same > 0.85
        assert stitched > 0.85 * same
    for a, b in (absolute_encoders, absolute_encoders[::-1]):
        same = a.score(X_test, y_test)
        stitched = a.with_encoder(b).score(X_test, y_test)
        # measured: same 0.92-0.93, stitched 0.11
        assert same > 0.85
        assert stitched < CHANCE + 0.2


def test_end_to_end_stitching_across_domains_with_parallel_anchors(
    digits32, relative_nets
):
    # Encoder B reads another representation of the same images (pixels shuffled
    # and rescaled); the anchors are the same images in B's representation.
    X, y, X_test, y_test = digits32
    permutation = np.random.RandomState(0).permutation(X.shape[1])
    other = RelativeClassifier(**NETS, n_anchors=100, random_state=2).fit(
        2 * X[:, permutation], y
    )
    a = relative_nets[0]
    stitched = a.with_encoder(
        other, anchor_inputs=2 * X[a.anchor_indices_][:, permutation]
    )
    assert stitched.input_shape_ == (64,)
    accuracy = stitched.score(2 * X_test[:, permutation], y_test)
    # measured: 0.91 (A on its own domain 0.91, B on its own 0.93)
    assert accuracy > 0.8 * a.score(X_test, y_test)
    with pytest.raises(ValueError, match="one row per anchor"):
        a.with_encoder(other, anchor_inputs=X[:5])
