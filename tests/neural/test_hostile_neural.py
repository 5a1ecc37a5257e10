"""skrelrep.neural on hostile inputs: a correct result or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from hostile import case, check_every_case_is_tested  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skrelrep import RelativeTransformer  # noqa: E402
from skrelrep.neural import (  # noqa: E402
    AutoEncoder,
    MLPEncoderModule,
    NeuralEncoder,
    RelativeAutoEncoder,
    RelativeClassifier,
    RelativeProjection,
)
from skrelrep.neural._relative_layer import _cosine_to_anchors  # noqa: E402

CASES = [
    (
        "magnitudes",
        "codes of any magnitude a float32 holds (1e-30 to 1e30), with or without "
        "centring",
        "the relative layer's similarities equal the core kernel's on the same codes, "
        "to float32 rounding: each row is divided by its largest entry before its norm "
        "is taken (torch's normalize would shrink the cosines towards 0 below 1e-12 "
        "and give 0 above about 1e19, where squares overflow)",
    ),
    (
        "zero-codes",
        "zero codes and zero anchor codes (with centring, codes equal to the anchor "
        "codes' mean) in a batch with tiny (1e-30) and huge (1e30) codes, "
        "backpropagated",
        "rows and columns of zeros; finite gradients, never NaN; the tiny and huge "
        "codes' gradients are those at unit scale divided by the magnitude, and the "
        "anchors' are unchanged",
    ),
    (
        "identical-anchor-codes",
        "with centring, anchor codes that are all the same, or codes equal to the "
        "anchor codes' mean up to rounding",
        "zero columns for such anchors and zero rows for such codes, as in the core "
        "(without its warning, as this runs in every forward pass), not similarities "
        "of 1.0 to rounding residue",
    ),
    (
        "non-finite",
        "NaN or infinite entries in X (array or tensor) at fit, transform, predict or "
        "inverse_transform",
        "ValueError naming the input, tensors included (unchecked, a net would train "
        "to NaN weights, NaN outputs, and the first class from predict)",
    ),
    (
        "empty-or-wrong-shape",
        "no rows or no features (array or tensor), another sample shape at transform "
        "or predict than at fit, codes of another width for inverse_transform",
        "ValueError with the shapes, tensors included (no silent fit on an empty "
        "tensor, no torch RuntimeError from inverse_transform)",
    ),
    (
        "wrong-types",
        "strings or complex numbers in X",
        "ValueError from scikit-learn's validation; integer arrays and tensors are "
        "read as float32",
    ),
    (
        "not-an-encoder",
        "with_encoder given something that is no encoder: a string, None, a "
        "scikit-learn estimator, an unfitted net",
        "TypeError listing what with_encoder accepts",
    ),
    (
        "bad-anchor-inputs",
        "with_encoder(anchor_inputs=...) with another number of rows than anchors, a "
        "1-D array, or NaN entries",
        "ValueError with the counts, or naming anchor_inputs (a NaN anchor would make "
        "every prediction the first class)",
    ),
    (
        "stratified-without-labels",
        'anchor_selection="stratified" without y or with a continuous y; '
        "RelativeClassifier without y",
        "ValueError asking for class labels (TypeError for a missing positional y)",
    ),
    (
        "too-many-anchors",
        "n_anchors larger than the number of training rows",
        "every row becomes an anchor, with a UserWarning at the caller's line",
    ),
    (
        "bad-n-anchors",
        "n_anchors of 0, 1.5 or 2.0; center=True with a single anchor",
        "InvalidParameterError naming n_anchors; ValueError: center=True needs at "
        "least 2 anchors",
    ),
    (
        "module-instance-to-skops",
        "a net whose module is a torch module instance, not a class (after "
        "with_encoder(a torch module)), saved with skops.io",
        "TypeError at save time naming the parameter and what to do (a module class "
        "and its parameters, or pickle); pickle and copy.deepcopy keep working, with "
        "the same outputs",
    ),
]

SMALL = dict(module__n_components=4, module__hidden_units=(8,), max_epochs=1)
NETS = [NeuralEncoder, AutoEncoder, RelativeClassifier, RelativeAutoEncoder]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Tiny nets: threads cost more than they save.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(n_threads)


def _data(n_samples=40, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    return X, np.arange(n_samples) % 3


def _net(Net, **params):
    if Net in (RelativeClassifier, RelativeAutoEncoder):
        params.setdefault("n_anchors", 5)
    return Net(**SMALL, random_state=0, **params)


def _identity_layer(anchors, center):
    return RelativeProjection(
        torch.nn.Identity(), anchors, center=center, normalization=None
    )


def _core(codes, anchor_codes, center):
    """The core's relative representation of ``codes`` (float32 NumPy)."""
    reference = RelativeTransformer(n_anchors=None, center=center).fit(anchor_codes)
    return reference.transform(codes)


@case("magnitudes")
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("factor", [1e-30, 1e-20, 1e-13, 1e13, 1e20, 1e30])
def test_magnitudes(center, factor):
    rng = np.random.RandomState(0)
    codes = rng.normal(size=(9, 4)).astype(np.float32)
    anchor_codes = rng.normal(size=(6, 4)).astype(np.float32) + 0.5
    factor = np.float32(factor)
    layer = _identity_layer(anchor_codes * factor, center)
    with torch.no_grad():
        got = layer.similarities(torch.as_tensor(codes * factor)).numpy()
    core = _core(codes * factor, anchor_codes * factor, center)
    assert core.dtype == np.float32
    assert_allclose(got, core, atol=1e-5)
    assert_allclose(got, _core(codes, anchor_codes, center), atol=1e-5)


@case("zero-codes")
@pytest.mark.parametrize("center", [False, True])
def test_zero_codes(center):
    rng = np.random.RandomState(0)
    base = torch.as_tensor(rng.normal(size=(2, 4)).astype(np.float32))
    anchors = torch.as_tensor(rng.normal(size=(6, 4)).astype(np.float32))
    if not center:
        anchors[2] = 0  # a zero anchor code: a zero column
    weights = torch.as_tensor(rng.normal(size=(3, 6)).astype(np.float32))

    def run(codes):
        codes = codes.clone().requires_grad_()
        anchor_codes = anchors.clone().requires_grad_()
        similarities = _cosine_to_anchors(codes, anchor_codes, center=center)
        (similarities * weights).sum().backward()
        return similarities.detach(), codes.grad, anchor_codes.grad

    zero = anchors.mean(dim=0) if center else torch.zeros(4)
    if center:  # the mean, and rows away from it
        codes = torch.vstack([zero, base])
        similarities, grad, anchor_grad = run(codes)
        assert_array_equal(similarities[0], 0)
        assert torch.isfinite(grad).all() and torch.isfinite(anchor_grad).all()
        return
    unit, unit_grad, unit_anchor_grad = run(torch.vstack([zero, base]))
    scaled = torch.vstack([zero, base[:1] * 1e-30, base[1:] * 1e30])
    similarities, grad, anchor_grad = run(scaled)
    assert_array_equal(similarities[0], 0)
    assert_array_equal(similarities[:, 2], 0)
    assert torch.isfinite(grad).all() and torch.isfinite(anchor_grad).all()
    assert_allclose(similarities, unit, atol=1e-6)
    # d(x / |x|)/dx scales as 1 / |x|; the anchors' gradients do not change.
    assert_allclose(grad[1] * 1e-30, unit_grad[1], rtol=1e-4, atol=1e-6)
    assert_allclose(grad[2] * 1e30, unit_grad[2], rtol=1e-4, atol=1e-6)
    assert_allclose(anchor_grad, unit_anchor_grad, rtol=1e-4, atol=1e-6)
    # Through the whole layer, its LayerNorm included.
    layer = RelativeProjection(torch.nn.Identity(), anchors)
    batch = scaled.clone().requires_grad_()
    (layer(batch) * weights).sum().backward()
    assert torch.isfinite(batch.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters())


@case("identical-anchor-codes")
def test_identical_anchor_codes():
    rng = np.random.RandomState(0)
    # Five equal codes and one a unit in the last place away, with an offset large
    # next to that: their mean is each of them only up to rounding, and the centred
    # codes are rounding residue.
    row = (rng.normal(size=4) * 3 + 10).astype(np.float32)
    anchors = np.vstack([np.tile(row, (5, 1)), row + np.float32(1e-6)])
    layer = _identity_layer(anchors, center=True)
    batch = torch.as_tensor(np.vstack([row, anchors.mean(axis=0), row + 1]))
    with torch.no_grad():
        similarities = layer.similarities(batch).numpy()
    assert_array_equal(similarities[:2], 0)  # the mean, up to rounding: zero rows
    assert_array_equal(similarities[2], 0)  # any row: zero columns for all anchors
    with pytest.warns(UserWarning, match="All 6 anchors equal the anchors' mean"):
        core = _core(batch.numpy(), anchors, center=True)
    assert_array_equal(core, similarities)
    # Anchors a genuine distance apart: rows at their mean up to rounding are zero
    # rows, rows a genuine distance away are projected as usual.
    spread = anchors + rng.normal(size=anchors.shape).astype(np.float32)
    layer = _identity_layer(spread, center=True)
    mean = torch.as_tensor(spread).mean(dim=0)
    one_ulp = torch.nextafter(mean, torch.full_like(mean, np.inf))
    two_ulps = torch.nextafter(one_ulp, -torch.sign(mean) * np.inf)
    with torch.no_grad():
        projected = layer.similarities(
            torch.vstack([mean, one_ulp, two_ulps, mean + 1])
        )
    assert_array_equal(projected[:3], 0)
    assert projected[3].abs().max() > 0.5


@case("non-finite")
@pytest.mark.parametrize("Net", NETS)
def test_non_finite(Net):
    X, y = _data()
    net = _net(Net).fit(X, y)
    for value in (np.nan, np.inf, -np.inf):
        bad = X.copy()
        bad[3, 2] = value
        match = r"Input X contains (NaN|infinity)"
        for as_input in (np.asarray, torch.as_tensor):
            with pytest.raises(ValueError, match=match):
                _net(Net).fit(as_input(bad), y)
            with pytest.raises(ValueError, match=match):
                net.transform(as_input(bad))
            if hasattr(net, "predict"):
                with pytest.raises(ValueError, match=match):
                    net.predict(as_input(bad))
            if hasattr(net, "inverse_transform"):
                codes = net.transform(X[:3])
                codes[0, 0] = value
                with pytest.raises(ValueError, match=match):
                    net.inverse_transform(as_input(codes))


@case("empty-or-wrong-shape")
@pytest.mark.parametrize("Net", NETS)
def test_empty_or_wrong_shape(Net):
    X, y = _data()
    for as_input in (np.asarray, torch.as_tensor):
        with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 6\)\)"):
            _net(Net).fit(as_input(X[:0]), y[:0])
        with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(40, 0\)\)"):
            _net(Net).fit(as_input(X[:, :0]), y)
    net = _net(Net).fit(X, y)
    methods = [net.transform] + ([net.predict] if hasattr(net, "predict") else [])
    for method in methods:
        with pytest.raises(ValueError, match=r"0 sample\(s\)"):
            method(torch.as_tensor(X[:0]))
        with pytest.raises(ValueError, match=r"X has 4 features, but .* expecting 6"):
            method(X[:, :4])
        with pytest.raises(ValueError, match=r"samples of shape \(4,\), but .* \(6,\)"):
            method(torch.as_tensor(X[:, :4]))
        with pytest.raises(ValueError, match=r"X has 2 features, but .* expecting 6"):
            method(X.reshape(40, 2, 3))
        with pytest.raises(ValueError, match=r"samples of shape \(2, 3\), but"):
            method(torch.as_tensor(X.reshape(40, 2, 3)))
    if hasattr(net, "inverse_transform"):
        width = net.transform(X[:1]).shape[1]
        for as_input in (np.asarray, torch.as_tensor):
            with pytest.raises(
                ValueError, match=f"X has {width + 1} features, .* expects {width}"
            ):
                net.inverse_transform(as_input(np.zeros((3, width + 1), np.float32)))


@case("wrong-types")
def test_wrong_types():
    X, y = _data()
    net = _net(RelativeClassifier).fit(X, y)
    with pytest.raises(ValueError, match="could not convert string to float"):
        net.predict(np.full((2, 6), "a"))
    with pytest.raises(ValueError, match="could not convert string to float"):
        _net(NeuralEncoder).fit(X.astype(str).astype(object) + "x", y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        net.predict(X[:2].astype(complex))
    integers = np.round(X * 3).astype(np.int64)
    expected = net.transform(integers.astype(np.float32))
    assert_array_equal(net.transform(integers), expected)
    assert_array_equal(net.transform(torch.as_tensor(integers)), expected)


@case("not-an-encoder")
def test_not_an_encoder():
    X, y = _data()
    net = _net(RelativeClassifier).fit(X, y)
    for other in ("encoder", None, LogisticRegression().fit(X, y), NeuralEncoder()):
        with pytest.raises(TypeError, match="with_encoder expects a fitted net"):
            net.with_encoder(other)


@case("bad-anchor-inputs")
def test_bad_anchor_inputs():
    X, y = _data()
    net = _net(RelativeClassifier).fit(X, y)
    other = MLPEncoderModule(n_features=3, n_components=2)
    for anchors in (np.zeros((4, 3)), torch.zeros(6, 3)):
        with pytest.raises(ValueError, match=f"got {len(anchors)} rows for 5 anchors"):
            net.with_encoder(other, anchor_inputs=anchors)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        net.with_encoder(other, anchor_inputs=np.zeros(5))
    bad = np.ones((5, 3))
    bad[1, 1] = np.nan
    for anchors in (bad, torch.as_tensor(bad)):
        with pytest.raises(ValueError, match="anchor_inputs contains NaN"):
            net.with_encoder(other, anchor_inputs=anchors)
    # Well-formed parallel anchors are accepted, whatever their dtype.
    swapped = net.with_encoder(
        other, anchor_inputs=torch.ones(5, 3, dtype=torch.float64)
    )
    assert swapped.predict(np.zeros((2, 3))).shape == (2,)


@case("stratified-without-labels")
def test_stratified_without_labels():
    X, _ = _data()
    stratified = dict(anchor_selection="stratified")
    with pytest.raises(ValueError, match="'stratified' needs class labels"):
        _net(RelativeAutoEncoder, **stratified).fit(X)
    with pytest.raises(ValueError, match="type is 'continuous'"):
        _net(RelativeAutoEncoder, **stratified).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="needs class labels to fit"):
        _net(RelativeClassifier, **stratified).fit(X, None)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        _net(RelativeClassifier, **stratified).fit(X)


@case("too-many-anchors")
@pytest.mark.parametrize("Net", [RelativeClassifier, RelativeAutoEncoder])
def test_too_many_anchors(Net):
    X, y = _data(n_samples=20)
    with pytest.warns(UserWarning, match="n_anchors=50 is larger than n_samples=20"):
        net = _net(Net, n_anchors=50).fit(X, y)
    assert net.n_anchors_ == 20
    assert_array_equal(np.sort(net.anchor_indices_), np.arange(20))
    with pytest.warns(UserWarning) as record:
        _net(Net, n_anchors=50).fit(X, y)
    assert record[0].filename == __file__  # the caller's line, not the library's


@case("bad-n-anchors")
def test_bad_n_anchors():
    X, y = _data()
    for n_anchors in (0, 1.5, 2.0):
        with pytest.raises(InvalidParameterError, match="'n_anchors' parameter"):
            _net(RelativeClassifier, n_anchors=n_anchors).fit(X, y)
    with pytest.raises(ValueError, match="center=True needs at least 2 anchors"):
        _net(RelativeAutoEncoder, n_anchors=1, center=True).fit(X)


@case("module-instance-to-skops")
@pytest.mark.parametrize("Net", [NeuralEncoder, RelativeClassifier])
def test_module_instance_to_skops(Net, tmp_path):
    import copy
    import pickle

    sio = pytest.importorskip("skops.io")
    X, y = _data()
    net = _net(Net).fit(X, y)
    encoder = torch.nn.Sequential(torch.nn.Linear(6, 4))
    encoder.n_components = 4
    swapped = net.with_encoder(encoder)
    assert isinstance(swapped.module, torch.nn.Module)
    with pytest.raises(
        TypeError, match=r"parameter 'module' is a torch module instance.*module="
    ):
        sio.dump(swapped, tmp_path / "net.skops")
    expected = swapped.transform(X)
    for restored in (pickle.loads(pickle.dumps(swapped)), copy.deepcopy(swapped)):
        assert isinstance(restored.module, torch.nn.Sequential)
        assert_array_equal(restored.transform(X), expected)
    # Swapped from a fitted net instead, the module stays a class: skops saves it.
    other = _net(Net).set_params(random_state=1).fit(X, y)
    rebuilt = net.with_encoder(other)
    sio.dump(rebuilt, tmp_path / "rebuilt.skops")
    path = tmp_path / "rebuilt.skops"
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert_array_equal(loaded.transform(X), rebuilt.transform(X))
