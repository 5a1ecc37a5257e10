"""Neural encoders, decoders and end-to-end relative nets (optional: torch, skorch).

Everything here is a torch module or a skorch net that behaves as a scikit-learn
estimator: the nets clone, pickle (a net trained on a GPU loads on a CPU), take part in
pipelines and grid searches, and expose the encoder's latent code through ``transform``.

A fitted net saves its torch components as arrays, never as a pickle inside its state,
so it also saves with ``skops.io``. The types a ``.skops`` file of a net asks to trust
are the net's and its modules' classes, the classes its parameters name (the loss, the
optimizer, skorch's ``Dataset`` and ``DataLoader``), skorch's default callbacks and
``print`` (their log's output). A net whose ``module`` is a torch module instance
rather than a class pickles, but does not load from ``skops.io``.
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "skrelrep.neural needs PyTorch and skorch, which are optional. Install them "
        'with: pip install "skrelrep[torch]"\n(from a checkout: pip install '
        '".[torch]"), after the torch build you want (CPU or CUDA, as pytorch.org '
        "says); pip keeps an installed torch whose version fits."
    ) from exc

from ._modules import CNNEncoderModule, MLPDecoderModule, MLPEncoderModule
from ._nets import AutoEncoder, NeuralEncoder
from ._relative_layer import RelativeProjection
from ._relative_nets import RelativeAutoEncoder, RelativeClassifier

__all__ = [
    "AutoEncoder",
    "CNNEncoderModule",
    "MLPDecoderModule",
    "MLPEncoderModule",
    "NeuralEncoder",
    "RelativeAutoEncoder",
    "RelativeClassifier",
    "RelativeProjection",
]
