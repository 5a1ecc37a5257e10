"""Saving and loading the nets: pickle, copy and skops.io, with no pickle inside.

skorch keeps a net's torch components as a pickle inside its state; the nets here
save them as state dicts of NumPy arrays and build them again on load, so that a
``.skops`` file runs nothing beyond the types the user trusts.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sio = pytest.importorskip("skops.io")

from skorch import NeuralNet  # noqa: E402
from skorch.exceptions import DeviceWarning  # noqa: E402

from skrelrep.neural import (  # noqa: E402
    AutoEncoder,
    NeuralEncoder,
    RelativeAutoEncoder,
    RelativeClassifier,
)
from skrelrep.neural._state import _to_arrays, _to_tensors  # noqa: E402

SMALL = dict(module__n_components=4, module__hidden_units=(8,), max_epochs=2)
RELATIVE = dict(n_anchors=6)
NETS = {
    NeuralEncoder: {},
    AutoEncoder: {},
    RelativeClassifier: RELATIVE,
    RelativeAutoEncoder: RELATIVE,
}
# What a skops file of a net asks the user to trust: the net and its modules, the
# classes its parameters name (loss, optimizer, skorch's data loading), skorch's
# default callbacks and the print function of its epoch log. Nothing that unpickles.
TRUSTABLE = (
    "skrelrep.neural.",
    "torch.nn.modules.loss.",
    "torch.optim.adam.Adam",
    "torch.utils.data.dataloader.DataLoader",
    "skorch.dataset.Dataset",
    "skorch.callbacks.logging.",
    "skorch.callbacks.scoring.PassthroughScoring",
    "builtins.print",
)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:120] / 16).astype(np.float32), y[:120]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fit(Net, digits):
    X, y = digits
    return Net(**SMALL, **NETS[Net], random_state=0).fit(X, y)


def _outputs(net, X):
    out = [net.transform(X)]
    if hasattr(net, "predict_proba"):
        out.append(net.predict_proba(X))
    else:
        out.append(net.inverse_transform(out[0]))
    return out


def _walk(value):
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key)
            yield from _walk(item)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _walk(item)


@pytest.mark.parametrize("Net", list(NETS), ids=lambda cls: cls.__name__)
def test_skops_round_trip_trusting_no_unpickler(Net, digits):
    X, y = digits
    net = _fit(Net, digits)
    blob = sio.dumps(net)
    untrusted = sio.get_untrusted_types(data=blob)
    assert all(name.startswith(TRUSTABLE) for name in untrusted), untrusted
    assert f"skrelrep.neural.{Net.__module__.split('.')[-1]}.{Net.__name__}" in (
        untrusted
    )
    loaded = sio.loads(blob, trusted=untrusted)
    for a, b in zip(_outputs(loaded, X), _outputs(net, X), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        loaded.history[:, "train_loss"], net.history[:, "train_loss"]
    )
    # Training goes on as it would have: optimizer state and seeds are kept.
    again = copy.deepcopy(net)
    loaded.partial_fit(X, y)
    again.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.transform(X), again.transform(X))


@pytest.mark.parametrize("Net", list(NETS), ids=lambda cls: cls.__name__)
def test_state_holds_arrays_and_plain_values_not_pickles(Net, digits):
    X, _ = digits
    net = _fit(Net, digits)
    state = net.__getstate__()
    assert "__cuda_dependent_attributes__" not in state
    for value in _walk(state):
        assert not isinstance(value, bytes | torch.Tensor | torch.nn.Module)
        assert not isinstance(value, torch.optim.Optimizer)
    rng = torch.get_rng_state()
    restored = [pickle.loads(pickle.dumps(net)), copy.deepcopy(net)]
    assert torch.equal(torch.get_rng_state(), rng)  # loading draws nothing from it
    for copied in restored:
        for a, b in zip(_outputs(copied, X), _outputs(net, X), strict=True):
            np.testing.assert_array_equal(a, b)
    # The loaded net owns its components: they share no memory with the original.
    before = net.transform(X)
    restored = pickle.loads(pickle.dumps(net))
    with torch.no_grad():
        next(restored.module_.parameters()).add_(1.0)
    np.testing.assert_array_equal(net.transform(X), before)
    assert not np.array_equal(restored.transform(X), before)


def test_a_skops_file_with_skorch_inner_pickle_is_refused(digits, monkeypatch, capsys):
    """The inner pickle of skorch's state would run whatever it names, unseen by
    skops' list of untrusted types; such a state is refused before it is read."""
    net = _fit(NeuralEncoder, digits)

    class Payload:
        def __reduce__(self):
            return (print, ("payload ran",))

    def skorch_state(self):
        state = NeuralNet.__getstate__(self)
        state["__cuda_dependent_attributes__"] = pickle.dumps({"module_": Payload()})
        return state

    monkeypatch.setattr(NeuralEncoder, "__getstate__", skorch_state)
    blob = sio.dumps(net)
    monkeypatch.undo()
    untrusted = sio.get_untrusted_types(data=blob)
    assert "builtins.print" in untrusted  # the epoch log's; the payload is not listed
    with pytest.raises(ValueError, match="pickle inside its state"):
        sio.loads(blob, trusted=untrusted)
    assert "payload ran" not in capsys.readouterr().out


@pytest.mark.parametrize("fitted", [False, True])
def test_a_loaded_net_takes_new_parameters(fitted, digits):
    """skorch's setters of optimizer parameters (lr, optimizer__*) work after loading."""
    X, y = digits
    net = _fit(NeuralEncoder, digits) if fitted else NeuralEncoder(**SMALL)
    blob = sio.dumps(net)
    trusted = sio.get_untrusted_types(data=blob)
    for loaded in (pickle.loads(pickle.dumps(net)), sio.loads(blob, trusted=trusted)):
        loaded.set_params(lr=0.5)
        if fitted:  # the setter reaches the rebuilt optimizer
            assert loaded.optimizer_.param_groups[0]["lr"] == 0.5
        loaded.fit(X, y)
        assert loaded.optimizer_.param_groups[0]["lr"] == 0.5


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_a_net_saved_for_cuda_loads_on_the_cpu(digits):
    X, _ = digits
    net = _fit(RelativeClassifier, digits)
    state = net.__getstate__()
    state["device"] = "cuda"  # as a net trained on a GPU saves it
    loaded = RelativeClassifier.__new__(RelativeClassifier)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded.__setstate__(state)
    assert DeviceWarning in {w.category for w in caught}
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_tensor_trees_convert_both_ways_whatever_the_dtype():
    tree = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(2, 3)}},
        "param_groups": [{"betas": (0.9, 0.999), "params": [0], "foreach": None}],
        "half": torch.arange(6, dtype=torch.bfloat16).reshape(2, 3) / 3,
        "ints": torch.arange(4),
    }
    arrays = _to_arrays(tree)
    for value in _walk(arrays):
        assert not isinstance(value, torch.Tensor)
    back = _to_tensors(arrays)
    assert back["param_groups"] == tree["param_groups"]
    for key in ("half", "ints"):
        assert back[key].dtype == tree[key].dtype
        assert torch.equal(back[key], tree[key])
    assert torch.equal(back["state"][0]["exp_avg"], tree["state"][0]["exp_avg"])
    assert back["state"][0]["step"].shape == ()
    bad = {**arrays["half"], "__torch_tensor__": "Tensor"}
    with pytest.raises(ValueError, match="Unknown torch dtype"):
        _to_tensors(bad)
