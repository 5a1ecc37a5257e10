"""Compare two latent spaces of the same items: neighbourhoods, retrieval, similarity.

Every metric takes two row-aligned arrays ``A`` and ``B``: row ``i`` of each is the same
item seen by two encoders (two seeds, two architectures, or the same items expressed
relative to two sets of parallel anchors). These are the measures of the paper's word
embedding experiment (Moschella et al., 2023, Table 1), linear CKA (plain or
debiased), mutual k-NN alignment, a permutation test for any of them, retrieval of
one model's queries in another model's index (index migration), and a helper that
scores every encoder against every decoder (the stitching matrix).
:func:`compare_spaces` computes them all at once, with their p-values, for
``skrelrep compare``.

Raw spaces of any widths (two encoders' absolute embeddings) are compared by
:func:`mutual_knn`, :func:`neighbourhood_jaccard` and :func:`linear_cka`: each looks
only at the structure within each space. :func:`mean_reciprocal_rank` and
:func:`cosine_agreement` (and the paper's :func:`retrieval_agreement`) compare
coordinates across the spaces, so they need columns that mean the same thing (relative
representations on parallel anchors); the first two warn with a
:class:`ChanceAgreementWarning` when the agreement is at chance level.

One calling convention: the data come first, positionally; ``k``, ``ks``,
``batch_size`` and every option are keyword-only. A measure of one number returns a
float; one of several returns a small result object with named attributes
(:class:`RetrievalScores`, :class:`RetrievalAgreement`, :class:`MigrationScores`,
:class:`PermutationTestResult`, :class:`SpaceComparison`). Tied similarities are
averaged over, never ordered by row index (:ref:`metrics_ties`).

Cosine similarities between all pairs of rows are computed a chunk of rows at a time,
so no ``n_samples x n_samples`` matrix is ever held whole: the chunk size follows
scikit-learn's ``working_memory`` setting (see :func:`sklearn.config_context`) unless
``batch_size`` is given. ``float32`` input is computed in ``float32`` (linear CKA
accumulates its cross-products in ``float64``). A row whose norm is zero has cosine
similarity 0 with every row, so no metric returns NaN.
"""

from ._agreement import cosine_agreement
from ._chance import ChanceAgreementWarning
from ._cka import linear_cka
from ._compare import SpaceComparison, compare_spaces
from ._neighbourhoods import (
    jaccard_at_k,
    mean_reciprocal_rank,
    mutual_knn,
    neighbourhood_jaccard,
)
from ._permutation import PermutationTestResult, permutation_test
from ._results import MigrationScores, RetrievalAgreement, RetrievalScores
from ._retrieval import migration_scores, retrieval_agreement, retrieval_scores
from ._stitching_matrix import pivot_stitching_matrix, stitching_matrix

__all__ = [
    "ChanceAgreementWarning",
    "MigrationScores",
    "PermutationTestResult",
    "RetrievalAgreement",
    "RetrievalScores",
    "SpaceComparison",
    "compare_spaces",
    "cosine_agreement",
    "jaccard_at_k",
    "linear_cka",
    "mean_reciprocal_rank",
    "migration_scores",
    "mutual_knn",
    "neighbourhood_jaccard",
    "permutation_test",
    "pivot_stitching_matrix",
    "retrieval_agreement",
    "retrieval_scores",
    "stitching_matrix",
]
