"""Similarities: how a sample is compared with each anchor.

A relative representation re-expresses a sample by its similarity to each anchor
(Moschella et al., 2023). The similarity decides what the representation is invariant
to: the cosine to rotations, reflections and isotropic rescaling, the Euclidean
distance to translations too, L1 and L-infinity to permutations and sign flips of the
features. Each is a small cloneable object whose parameters a grid search can reach
through nested names; :class:`CombinedSimilarity` aggregates several (a product of
invariances, Cannistraci et al., 2024), and :class:`Similarity` is the base class for
a similarity of your own.

:class:`~skrelrep.RelativeTransformer` takes an object or its short name:
``similarity="cosine"`` (the default), ``"euclidean"``, ``"l1"``, ``"linf"``, or a
list of them for a :class:`CombinedSimilarity`.
"""

from ._base import Similarity
from ._combined import CombinedSimilarity
from ._cosine import CosineSimilarity
from ._distances import ChebyshevSimilarity, EuclideanSimilarity, ManhattanSimilarity

__all__ = [
    "ChebyshevSimilarity",
    "CombinedSimilarity",
    "CosineSimilarity",
    "EuclideanSimilarity",
    "ManhattanSimilarity",
    "Similarity",
]
