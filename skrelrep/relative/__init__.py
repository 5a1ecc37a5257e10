"""The relative stage: re-express samples by their similarity to anchors.

:class:`RelativeTransformer` chooses anchors among the rows it is fitted on (with
:mod:`skrelrep.anchors`) and projects rows onto them (with :mod:`skrelrep.similarity`).
The private modules beside it prepare the anchors (centring, scaling), validate the
rows, guard against rows from another space and adapt the transformer to dask arrays.
"""

from ._transformer import RelativeTransformer

__all__ = ["RelativeTransformer"]
