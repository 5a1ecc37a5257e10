"""Several similarities aggregated, and the strings that name the similarities.

A product of invariances (Cannistraci et al., ICLR 2024) computes the relative
representation under several similarities, each of which buys a different invariance,
and aggregates them.
"""

from collections import Counter

from sklearn.base import clone

from ..utils._compat import InvalidParameterError, StrOptions
from ._base import Similarity
from ._cosine import CosineSimilarity
from ._distances import ChebyshevSimilarity, EuclideanSimilarity, ManhattanSimilarity
from ._projection import relative_block

__all__ = [
    "SIMILARITIES",
    "CombinedSimilarity",
    "NamedSimilarityParamsMixin",
    "resolve_similarity",
    "similarity_object",
]

# The strings that name a similarity, as RelativeTransformer(similarity=...) takes.
SIMILARITIES = {
    cls.name: cls
    for cls in (
        CosineSimilarity,
        EuclideanSimilarity,
        ManhattanSimilarity,
        ChebyshevSimilarity,
    )
}


class CombinedSimilarity(Similarity):
    """Several similarities to the same anchors, aggregated into one representation.

    Each similarity gives its own relative vector (normalised per row as its own
    ``normalization`` asks), and the vectors are concatenated, summed or averaged: a
    product of invariances (Cannistraci et al., 2024). ``similarity=["cosine",
    "euclidean"]`` in :class:`~skrelrep.RelativeTransformer` is a shortcut for
    ``CombinedSimilarity(["cosine", "euclidean"])``.

    The parts are named for nested parameters by their short name (``"cosine"``,
    ``"euclidean"``, ``"l1"``, ``"linf"``, or the lowercased class name of a
    similarity of your own; repeated names get ``-1``, ``-2``, ... suffixes), so a
    grid search can reach them as ``similarity__euclidean__normalization``.

    Parameters
    ----------
    similarities : list of Similarity or str
        At least two similarities, or their names.

    aggregation : {"concatenate", "sum", "mean"}, default="concatenate"
        How the relative vectors are combined: side by side (one block of columns per
        similarity), or summed or averaged anchor by anchor.

    See Also
    --------
    CosineSimilarity, EuclideanSimilarity, ManhattanSimilarity, ChebyshevSimilarity

    References
    ----------
    .. [1] V. Cannistraci et al., "From Bricks to Bridges: Product of Invariances to
       Enhance Latent Space Communication", ICLR 2024. https://arxiv.org/abs/2310.01211

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep import RelativeTransformer
    >>> from skrelrep.similarity import CombinedSimilarity, EuclideanSimilarity
    >>> X = np.random.RandomState(0).normal(size=(60, 5))
    >>> combined = CombinedSimilarity(
    ...     ["cosine", EuclideanSimilarity(normalization="l2")], aggregation="concatenate"
    ... )
    >>> RelativeTransformer(10, similarity=combined, random_state=0).fit_transform(X).shape
    (60, 20)
    >>> sorted(combined.get_params())
    ['aggregation', 'cosine', 'euclidean', 'euclidean__normalization', 'similarities']
    """

    _parameter_constraints: dict = {
        "similarities": [list, tuple],
        "aggregation": [StrOptions({"concatenate", "sum", "mean"})],
    }

    def __init__(self, similarities, *, aggregation="concatenate"):
        self.similarities = similarities
        self.aggregation = aggregation

    @property
    def accepts_sparse(self):
        return all(part.accepts_sparse for part in self._parts())

    @property
    def measures_angles(self):
        return any(part.measures_angles for part in self._parts())

    @property
    def outputs_per_anchor(self):
        widths = [part.outputs_per_anchor for part in self._parts()]
        return sum(widths) if self.aggregation == "concatenate" else widths[0]

    def prepare_anchors(self, anchors, xp):
        """The anchors as they are: each part prepares its own, block by block."""
        return anchors

    def pairwise(self, X, anchors, xp):
        """Each part's (normalised) similarities, aggregated."""
        spaces = [
            relative_block(part, X, part.prepare_anchors(anchors, xp), xp)
            for part in self._parts()
        ]
        if self.aggregation == "concatenate":
            return xp.concat(spaces, axis=1)
        total = spaces[0]
        for other in spaces[1:]:
            total = total + other
        return total / len(spaces) if self.aggregation == "mean" else total

    def _parts(self):
        """The parts as Similarity objects (names resolved, not cloned)."""
        return [
            SIMILARITIES[part]() if isinstance(part, str) else part
            for part in self.similarities
        ]

    def _named_parts(self):
        """``(name, part)`` pairs as given (strings stay strings)."""
        names = [_short_name(part) for part in self.similarities]
        counts = Counter(names)
        seen = Counter()
        named = []
        for name, part in zip(names, self.similarities, strict=True):
            if counts[name] > 1:
                seen[name] += 1
                name = f"{name}-{seen[name]}"
            named.append((name, part))
        return named

    def get_params(self, deep=True):
        """Parameters, with each part and its parameters under the part's name.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parts and their parameters (``<part>__<parameter>``).

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=False)
        if deep and isinstance(self.similarities, (list, tuple)):
            for name, part in self._named_parts():
                params[name] = part
                if hasattr(part, "get_params"):
                    for key, value in part.get_params(deep=True).items():
                        params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set parameters, of this object or (``<part>__<parameter>``) of its parts.

        Parameters
        ----------
        **params : dict
            ``similarities``, ``aggregation``, a part by name (replacing it), or a
            part's parameter as ``<part>__<parameter>``.

        Returns
        -------
        self : CombinedSimilarity
        """
        if "similarities" in params:
            self.similarities = params.pop("similarities")
        if not isinstance(self.similarities, (list, tuple)):
            # Validated at fit time, as every other parameter.
            return super().set_params(**params) if params else self
        names = [name for name, _ in self._named_parts()]
        parts = list(self.similarities)
        replaced = False
        nested = {}
        for key in list(params):
            name, _, rest = key.partition("__")
            if name not in names:
                continue
            value = params.pop(key)
            position = names.index(name)
            if rest:
                nested.setdefault(position, {})[rest] = value
            else:
                parts[position], replaced = value, True
        for position, values in nested.items():
            if isinstance(parts[position], str):
                parts[position], replaced = SIMILARITIES[parts[position]](), True
            parts[position].set_params(**values)
        if replaced:  # a new list: the one given by the user is never modified
            self.similarities = type(self.similarities)(parts)
        return super().set_params(**params) if params else self


def _short_name(part):
    if isinstance(part, str):
        return part
    return getattr(type(part), "name", None) or type(part).__name__.lower()


def resolve_similarity(spec, owner):
    """The ``similarity`` parameter of ``owner`` as a validated Similarity object.

    A string names a similarity, a list or tuple of them (or of similarity objects)
    makes a :class:`CombinedSimilarity` (one element: that similarity alone), and a
    Similarity object is cloned. Raises scikit-learn's ``InvalidParameterError``,
    naming the parameter, for anything else.
    """
    if isinstance(spec, str):
        similarity = SIMILARITIES[spec]()
    elif isinstance(spec, Similarity):
        similarity = clone(spec)
    else:
        parts = list(spec)
        names = [part for part in parts if isinstance(part, str)]
        if (
            not parts
            or not all(map(_is_similarity, parts))
            or len(set(names)) < len(names)
        ):
            raise InvalidParameterError(
                f"The 'similarity' parameter of {type(owner).__name__} must be one of "
                f"{sorted(SIMILARITIES)}, a Similarity, or a non-empty list of distinct "
                f"ones; got {spec!r}."
            )
        if len(parts) == 1:
            return resolve_similarity(parts[0], owner)
        similarity = CombinedSimilarity([_resolved(part) for part in parts])
    _validate(similarity)
    return similarity


def similarity_object(spec):
    """The object a ``similarity`` parameter stands for, not validated nor cloned.

    A name gives a new similarity, a list or tuple a :class:`CombinedSimilarity` of
    its parts as given, and an object is returned as it is: what a nested parameter
    (``similarity__normalization``) is set on. Raises ``KeyError`` for an unknown
    name and ``TypeError`` for another type.
    """
    if isinstance(spec, Similarity):
        return spec
    if isinstance(spec, str):
        return SIMILARITIES[spec]()
    if isinstance(spec, (list, tuple)):
        return CombinedSimilarity(list(spec))
    raise TypeError(f"Not a similarity: {spec!r}.")


class NamedSimilarityParamsMixin:
    """Nested parameters for an estimator whose ``similarity`` may be a name.

    scikit-learn finds nested parameters on objects only: with ``similarity="cosine"``
    it would list no ``similarity__normalization`` and fail to set one. This mixin
    lists the parameters of the object a name (or a list of names) stands for, and
    setting one of them first replaces the name by that object, as
    :class:`CombinedSimilarity` does for its parts.
    """

    def set_params(self, **params):
        """Set the parameters of this estimator, or of its similarity.

        A nested parameter of a similarity given by name (``"cosine"``, or a list of
        names) turns the name into the object it stands for, so that
        ``similarity__normalization`` works with the default ``"cosine"``.

        Parameters
        ----------
        **params : dict
            Estimator parameters, and similarity parameters as
            ``similarity__<parameter>``.

        Returns
        -------
        self : estimator instance
            This estimator.
        """
        if any(key.startswith("similarity__") for key in params):
            spec = params.pop("similarity", self.similarity)
            super().set_params(similarity=similarity_object(spec))
        return super().set_params(**params)

    def get_params(self, deep=True):
        """Parameters of this estimator, and of its similarity when ``deep``.

        A similarity given by name lists the parameters of the object it stands for
        (``similarity__normalization`` for ``"cosine"``), which :meth:`set_params`
        accepts.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the similarity.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep and not isinstance(self.similarity, Similarity):
            try:
                resolved = similarity_object(self.similarity)
            except (KeyError, TypeError):  # an invalid value: refused by fit
                return params
            for key, value in resolved.get_params(deep=True).items():
                params[f"similarity__{key}"] = value
        return params


def _is_similarity(part):
    """A Similarity object or the name of one."""
    return isinstance(part, Similarity) or (
        isinstance(part, str) and part in SIMILARITIES
    )


def _resolved(part):
    return SIMILARITIES[part]() if isinstance(part, str) else clone(part)


def _validate(similarity):
    """Validate a similarity's parameters (and its parts', for a combination)."""
    if hasattr(similarity, "_parameter_constraints"):
        similarity._validate_params()
    if isinstance(similarity, CombinedSimilarity):
        bad = [part for part in similarity.similarities if not _is_similarity(part)]
        if bad:
            raise InvalidParameterError(
                "The parts of a CombinedSimilarity must be Similarity objects or "
                f"the names {sorted(SIMILARITIES)}; got {bad[0]!r}."
            )
        parts = similarity._parts()
        if len(parts) < 2:
            raise InvalidParameterError(
                "CombinedSimilarity needs at least two similarities, got "
                f"{similarity.similarities!r}: use the similarity itself."
            )
        for part in parts:
            _validate(part)
        widths = {part.outputs_per_anchor for part in parts}
        if similarity.aggregation != "concatenate" and len(widths) > 1:
            raise InvalidParameterError(
                f'aggregation="{similarity.aggregation}" adds the parts anchor by '
                "anchor: each part must give one column per anchor."
            )
