"""Model stitching: encoder, relative projection and decoder, with swappable parts.

:class:`StitchedPipeline` fits the three steps together; :func:`stitch` joins the
encoder of one fitted pipeline to the decoder of another without training (relative
stitching, or a latent translation with :func:`stitch_by_translation`), and
:func:`stitch_decoder` puts a new encoder under a decoder fitted outside any pipeline.
The names are re-exported from :mod:`skrelrep`.
"""

from ._decoder import stitch_decoder
from ._pipeline import StitchedPipeline
from ._stitch import stitch, stitch_by_translation

__all__ = ["StitchedPipeline", "stitch", "stitch_by_translation", "stitch_decoder"]
