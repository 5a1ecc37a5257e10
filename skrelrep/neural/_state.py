"""What a net saves: its parameters and its learnt numbers, never a pickled object.

skorch saves a net's torch modules, criteria and optimizers as one pickle inside its
state, which its ``__setstate__`` unpickles. Any pickle can run code, and
``skops.io`` cannot see into one: a ``.skops`` file of a skorch net would run
whatever that inner pickle names, whatever types the user trusted. Here each of these
components is saved as its ``state_dict``, converted to NumPy arrays and plain
values. On load the components are built again from the net's parameters (as
``initialize`` builds them, on a forked RNG) and the saved numbers are loaded into
them. The same state serves pickle, ``copy.deepcopy`` and ``skops.io``; a net saved
on a GPU loads on a machine without one (with skorch's ``DeviceWarning``). A
parameter that holds a torch module instance rather than a class cannot be built
again from data: pickle and ``copy`` keep it, ``skops.io`` refuses it at save time
and says what to do.
"""

import numpy as np
import torch
from skorch.history import History
from skorch.utils import get_map_location

from ._seeding import seeded

__all__ = ["restore_components", "save_components"]

# The key of the saved components in a net's state; skorch's own key is refused.
STATE_KEY = "_component_states"
SKORCH_KEY = "__cuda_dependent_attributes__"
# A tensor whose dtype NumPy lacks (bfloat16, float8): its bytes, dtype and shape.
_RAW = "__torch_tensor__"


def save_components(net, state):
    """Move the net's torch components out of ``state``; return them as arrays.

    ``state`` is a copy of the net's ``__dict__``. The components are the attributes
    ``<name>_`` of the names skorch registered as modules, criteria and optimizers;
    one that is not a torch object (``None`` after skorch's trimming) stays as it is.
    """
    saved = {}
    for kind in ("_modules", "_criteria", "_optimizers"):
        for name in state.get(kind, ()):
            attribute = name + "_"
            component = state.get(attribute)
            if isinstance(component, torch.nn.Module | torch.optim.Optimizer):
                del state[attribute]
                saved[attribute] = _to_arrays(component.state_dict())
    for key, value in state.items():
        if isinstance(value, torch.nn.Module):  # a parameter: an instance, no class
            state[key] = _ModuleInstance(value, key, type(net).__name__)
    history = state.get("history_")
    if isinstance(history, History):  # a list of dicts: no skorch type to trust
        state["history_"] = list(history)
    if any(name + "_" in saved for name in state.get("_optimizers", ())):
        # The optimizers' setters (functions): registered again when they are built.
        state.pop("virtual_params_", None)
    return saved


class _ModuleInstance:
    """A parameter that holds a torch module instance (``module`` after
    ``with_encoder(torch_module)``), in a net's saved state.

    pickle and ``copy`` store the module itself (``__reduce_ex__``); ``skops.io``,
    which can store only what is built again from data (an instance's architecture
    is in its constructor's arguments, which nothing records), gets a ``TypeError``
    saying what to do when it asks for ``__reduce__``, at save time.
    """

    def __init__(self, module, name, owner):
        self.module, self.name, self.owner = module, name, owner

    def __reduce_ex__(self, protocol):
        return _same, (self.module,)

    def __reduce__(self):
        raise TypeError(
            f"This {self.owner} cannot be saved with skops: its parameter "
            f"{self.name!r} is a torch module instance "
            f"({type(self.module).__name__}, as with_encoder(a torch module) sets "
            "it), which skops cannot build again from data. Give the net a module "
            f"class and its parameters instead ({self.name}=TheModuleClass, "
            f"{self.name}__<argument>=...; with_encoder(a fitted net) keeps them), "
            "or save it with pickle (whose files run code when loaded)."
        )


def _same(value):
    """What a pickled ``_ModuleInstance`` loads as: the module itself."""
    return value


def restore_components(net, saved):
    """Build the net's components from its parameters and load ``saved`` into them."""
    map_location = get_map_location(net.device)
    device = net._check_device(net.device, map_location)
    if device is not net.device:  # no GPU here: the CPU, said as fit would take it
        net.device = str(device)
    if isinstance(net.history_, list) and not isinstance(net.history_, History):
        net.history_ = History(net.history_)
    initialized = net.initialized_
    net.initialized_ = False  # building them again is no re-initialisation to report
    try:
        # Building draws initial weights, which the saved ones replace: from a
        # forked RNG, so that loading a net leaves the caller's RNG as it was.
        with seeded(0, net.device):
            if "virtual_params_" not in net.__dict__:
                net._initialize_virtual_params()
            kinds = {"_modules": net._initialize_module}
            kinds["_criteria"] = net._initialize_criterion
            kinds["_optimizers"] = net._initialize_optimizer
            for kind, build in kinds.items():
                names = [name + "_" for name in getattr(net, kind)]
                if not any(name in saved for name in names):
                    continue
                kept = {
                    name: net.__dict__[name]
                    for name in names
                    if name not in saved and name in net.__dict__
                }
                build()
                for name in names:
                    if name in saved:
                        _load(getattr(net, name), saved[name], name, net)
                    elif name in kept:
                        setattr(net, name, kept[name])
    finally:
        net.initialized_ = initialized


def _load(component, arrays, name, net):
    try:
        component.load_state_dict(_to_tensors(arrays))
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(
            f"The saved {name} does not fit the {name} that the parameters of this "
            f"{type(net).__name__} build: {exc}"
        ) from exc


def _to_arrays(tree):
    """A state dict with every tensor as a NumPy array (on the CPU)."""
    if isinstance(tree, torch.Tensor):
        tensor = tree.detach().cpu()
        try:
            return tensor.numpy()
        except TypeError:  # a dtype NumPy lacks: keep its bytes
            return {
                _RAW: str(tensor.dtype).removeprefix("torch."),
                "shape": tuple(tensor.shape),
                "bytes": tensor.contiguous().flatten().view(torch.uint8).numpy(),
            }
    if isinstance(tree, dict):
        return {key: _to_arrays(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_to_arrays(value) for value in tree)
    return tree


def _to_tensors(tree):
    """The inverse of :func:`_to_arrays`."""
    if isinstance(tree, np.ndarray):
        return torch.tensor(tree)
    if isinstance(tree, dict):
        if _RAW in tree:
            dtype = getattr(torch, str(tree[_RAW]), None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"Unknown torch dtype {tree[_RAW]!r} in a saved net.")
            raw = torch.tensor(np.asarray(tree["bytes"], dtype=np.uint8))
            return raw.view(dtype).reshape(tuple(tree["shape"]))
        return {key: _to_tensors(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return type(tree)(_to_tensors(value) for value in tree)
    return tree
