"""Pretrained and trainable encoders as scikit-learn transformers (optional).

Raw inputs in, embeddings out, ready for :class:`~skrelrep.RelativeTransformer`:

- sentences: :class:`MiniLML6Encoder`, :class:`MiniLML3Encoder` (ONNX),
  :class:`E5SmallEncoder` (multilingual) — ``pip install "skrelrep[text]"``;
- images: :class:`EfficientNetLiteEncoder` (Lite0, Lite2) —
  ``pip install "skrelrep[vision]"``;
- words: :class:`Word2VecEncoder`, :class:`FastTextEncoder`, trained in ``fit`` —
  ``pip install "skrelrep[words]"``.

The ``text`` and ``vision`` extras pull torch: install the torch build you want (CPU
or CUDA) first, and pip keeps it (see :ref:`install`).

The pretrained encoders are frozen: ``fit`` learns nothing, the weights ship inside
packages (nothing is downloaded) and are loaded on first use. Importing this package
imports none of the optional dependencies.
"""

import importlib

__all__ = [
    "E5SmallEncoder",
    "EfficientNetLiteEncoder",
    "FastTextEncoder",
    "MiniLML3Encoder",
    "MiniLML6Encoder",
    "Word2VecEncoder",
    "clear_model_cache",
]

_MODULES = {
    "E5SmallEncoder": "._e5",
    "EfficientNetLiteEncoder": "._image",
    "FastTextEncoder": "._words",
    "MiniLML3Encoder": "._minilm",
    "MiniLML6Encoder": "._minilm",
    "Word2VecEncoder": "._words",
    "clear_model_cache": "._base",
}


def __getattr__(name):
    if name in _MODULES:
        value = getattr(importlib.import_module(_MODULES[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
