"""skrelrep: relative representations as scikit-learn estimators.

Relative representations (Moschella et al., ICLR 2023) re-express every sample by its
similarity to a set of anchor samples, which makes latent spaces learned by different
models comparable and lets a decoder trained on one encoder run on another.

The data flows one way: an encoder (:class:`MLPEncoder`, :mod:`skrelrep.encoders`,
:mod:`skrelrep.neural`) gives latent codes; :class:`RelativeTransformer` projects them
onto anchors (:mod:`skrelrep.anchors`) with a similarity (:mod:`skrelrep.similarity`);
a decoder reads the result, and :mod:`skrelrep.stitching` swaps encoders under it.
"""

from ._mlp_encoder import MLPEncoder
from ._translation import LatentTranslator
from .anchors import GreedyAnchorSelector
from .relative import RelativeTransformer
from .stitching import (
    StitchedPipeline,
    stitch,
    stitch_by_translation,
    stitch_decoder,
)

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
    "stitch_decoder",
]
