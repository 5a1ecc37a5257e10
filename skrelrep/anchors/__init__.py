"""Anchor selection: which samples become the anchors of a relative representation.

:class:`~skrelrep.RelativeTransformer` picks its anchors among the rows it is fitted
on, with one of the strategies of :mod:`._selection` (random, stratified, farthest
point sampling, k-means, explicit indices, a callable), or with
:class:`GreedyAnchorSelector`, which reads parallel data routed with the rows. The
neural nets of :mod:`skrelrep.neural` use the same code.
"""

from ._greedy import GreedyAnchorSelector

__all__ = ["GreedyAnchorSelector"]
