"""What the retrieval measures return: small result objects with named values.

A measure that gives one number returns a float; one that gives several returns a
frozen result object, as :func:`permutation_test` and :func:`compare_spaces` do (and
as scipy.stats does). Its attributes are documented and named after the measure, it
can carry more than floats (the cut-off, tables), ``as_dict()`` gives the flat
``"name@k"`` form of ``metrics.json``, and, unlike a dict, it can keep an older form
of the result working, with a FutureWarning, while code moves to the new one.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._deprecation import deprecated

__all__ = ["MigrationScores", "RetrievalAgreement", "RetrievalScores"]


@dataclass(frozen=True, eq=False)
class RetrievalScores:
    """What :func:`retrieval_scores` returns.

    Attributes
    ----------
    recall : dict of int to float
        ``recall[k]``: the share of queries whose answer ranks at most ``k``.
    mrr : float
        Mean reciprocal rank of the answers, counting 0 beyond rank ``k``.
    k : int
        The cut-off of ``mrr``: the largest of ``ks``.
    n_queries : int
        The number of queries.
    """

    recall: dict
    mrr: float
    k: int
    n_queries: int

    def as_dict(self):
        """``{"recall@1": ..., "recall@10": ..., "mrr@10": ...}``."""
        scores = {f"recall@{k}": value for k, value in self.recall.items()}
        scores[f"mrr@{self.k}"] = self.mrr
        return scores

    def __repr__(self):
        values = ", ".join(
            f"{name}={value:.4g}" for name, value in self.as_dict().items()
        )
        return f"RetrievalScores({values})"

    # Deprecated: the result read as a dict of its flat scores.
    def _as_old_dict(self):
        deprecated(
            "Reading retrieval_scores' result as a dict",
            "use its attributes (recall[k], mrr) or as_dict()",
        )
        return self.as_dict()

    def __getitem__(self, name):
        return self._as_old_dict()[name]

    def __iter__(self):
        return iter(self._as_old_dict())

    def __len__(self):
        return len(self._as_old_dict())

    def __contains__(self, name):
        return name in self._as_old_dict()

    def keys(self):
        return self._as_old_dict().keys()

    def values(self):
        return self._as_old_dict().values()

    def items(self):
        return self._as_old_dict().items()

    def __eq__(self, other):
        if isinstance(other, RetrievalScores):
            return self.as_dict() == other.as_dict()
        if isinstance(other, dict):
            return self._as_old_dict() == other
        return NotImplemented


@dataclass(frozen=True, eq=False)
class RetrievalAgreement:
    """What :func:`retrieval_agreement` returns.

    Attributes
    ----------
    jaccard : float
        The paper's Jaccard@k: mean Jaccard index of the rows of ``B`` retrieved by
        an item's ``A`` code and by its ``B`` code, in ``[0, 1]``.
    mrr : float
        The paper's MRR@k: mean reciprocal rank of each item among the rows its
        ``A`` code retrieves (0 when it is not among them), in ``[0, 1]``.
    k : int
        Rows retrieved per query.
    """

    jaccard: float
    mrr: float
    k: int

    def as_dict(self):
        """``{"retrieval_jaccard@k": ..., "retrieval_mrr@k": ...}``."""
        return {
            f"retrieval_jaccard@{self.k}": self.jaccard,
            f"retrieval_mrr@{self.k}": self.mrr,
        }

    def __repr__(self):
        return (
            f"RetrievalAgreement(jaccard={self.jaccard:.4g}, mrr={self.mrr:.4g}, "
            f"k={self.k})"
        )

    # Deprecated: the result read as a (jaccard, mrr) tuple.
    def _as_old_tuple(self):
        deprecated(
            "Unpacking retrieval_agreement's result as a (jaccard, mrr) tuple",
            "read its attributes .jaccard and .mrr",
        )
        return (self.jaccard, self.mrr)

    def __iter__(self):
        return iter(self._as_old_tuple())

    def __getitem__(self, position):
        return self._as_old_tuple()[position]

    def __len__(self):
        return len(self._as_old_tuple())

    def __eq__(self, other):
        if isinstance(other, RetrievalAgreement):
            return (self.jaccard, self.mrr, self.k) == (
                other.jaccard,
                other.mrr,
                other.k,
            )
        if isinstance(other, tuple):
            return self._as_old_tuple() == other
        return NotImplemented


@dataclass(frozen=True, eq=False)
class MigrationScores:
    """What :func:`migration_scores` returns.

    Attributes
    ----------
    mapped : RetrievalScores
        The mapped queries searched in the index.
    reembedded : RetrievalScores
        The queries searched in the re-embedded index: the reference.
    fraction : dict of str to float
        Each measure, mapped over re-embedded (NaN where the reference is 0).
    """

    mapped: RetrievalScores
    reembedded: RetrievalScores

    @property
    def fraction(self):
        """Each measure, mapped over re-embedded (NaN where the reference is 0)."""
        reference = self.reembedded.as_dict()
        return {
            name: value / reference[name] if reference[name] > 0 else np.nan
            for name, value in self.mapped.as_dict().items()
        }

    def to_frame(self):
        """One row per measure; columns ``mapped``, ``re-embedded``, ``fraction``."""
        frame = pd.DataFrame(
            {
                "mapped": self.mapped.as_dict(),
                "re-embedded": self.reembedded.as_dict(),
                "fraction": self.fraction,
            }
        )
        frame.index.name = "measure"
        return frame

    def __repr__(self):
        return f"MigrationScores(\n{self.to_frame()!r}\n)"

    # Deprecated: the result read as the table of to_frame().
    def _as_old_frame(self):
        deprecated(
            "Reading migration_scores' result as a DataFrame",
            "call its to_frame() method, or read .mapped, .reembedded and .fraction",
        )
        return self.to_frame()

    def __getitem__(self, key):
        return self._as_old_frame()[key]

    def __getattr__(self, name):
        # Only reached for names the result does not have: DataFrame methods.
        if name.startswith("_") or not hasattr(pd.DataFrame, name):
            raise AttributeError(f"'MigrationScores' object has no attribute {name!r}")
        return getattr(self._as_old_frame(), name)

    def __iter__(self):
        return iter(self._as_old_frame())

    def __len__(self):
        return len(self._as_old_frame())
