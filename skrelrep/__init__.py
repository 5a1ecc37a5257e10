"""skrelrep: relative representations as scikit-learn estimators.

Relative representations (Moschella et al., ICLR 2023) re-express every sample by its
similarity to a set of anchor samples, which makes latent spaces learned by different
models comparable and lets a decoder trained on one encoder run on another.
"""

from ._anchor_search import GreedyAnchorSelector
from ._mlp_encoder import MLPEncoder
from ._relative import RelativeTransformer
from ._stitching import StitchedPipeline, stitch
from ._translation import LatentTranslator, stitch_by_translation

__version__ = "0.1.0.dev0"

__all__ = [
    "GreedyAnchorSelector",
    "LatentTranslator",
    "MLPEncoder",
    "RelativeTransformer",
    "StitchedPipeline",
    "__version__",
    "stitch",
    "stitch_by_translation",
]
