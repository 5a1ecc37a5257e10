"""The relative part of the relative nets: anchors, relative layer, parallel anchors.

:class:`RelativeNetBase` declares the relative nets' own parameters (``n_anchors``,
``anchor_selection``, ``center``, ``normalization``), chooses the anchors among the
training rows with the selection code of :class:`~skrelrep.RelativeTransformer`
(:mod:`skrelrep.anchors`), builds the encoder and the :class:`RelativeProjection` in
front of the head or decoder, and swaps encoders with parallel anchors.
"""

import numpy as np
import torch
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_consistent_length, check_is_fitted
from skorch.utils import is_dataset

from ..anchors._selection import (
    ANCHOR_SELECTION_CONSTRAINT,
    N_ANCHORS_CONSTRAINT,
    resolve_n_anchors,
    select_anchors,
)
from ..utils._array_api import to_numpy
from ..utils._compat import StrOptions
from ._base import NetBase
from ._modules import MLPEncoderModule
from ._relative_layer import RelativeProjection

__all__ = ["RelativeNetBase"]


class RelativeNetBase(NetBase):
    """Anchor selection, the relative layer, encoder swapping with parallel anchors.

    Combined with a task base (``RelativeNetBase`` first), for example
    ``class RelativeClassifier(RelativeNetBase, ClassifierNetBase)``. Subclasses call
    :meth:`_build_relative` in ``initialize_module`` and size the module after the
    layer with the number of anchors it returns.

    Its parameters are documented with the nets', in ``_docs.py``.
    """

    _parameter_constraints: dict = {
        **NetBase._parameter_constraints,
        "n_anchors": N_ANCHORS_CONSTRAINT,
        "anchor_selection": ANCHOR_SELECTION_CONSTRAINT,
        "center": ["boolean"],
        "normalization": [StrOptions({"layernorm"}), None],
    }

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        n_anchors=300,
        anchor_selection="random",
        center=False,
        normalization="layernorm",
        **kwargs,
    ):
        self.n_anchors = n_anchors
        self.anchor_selection = anchor_selection
        self.center = center
        self.normalization = normalization
        super().__init__(module, **kwargs)

    def _prepare_fit(self, X, y):
        """Choose the anchors among the rows of ``X`` (before the modules exist).

        Exactly as :class:`~skrelrep.RelativeTransformer` with the same
        ``n_anchors``, ``anchor_selection`` and ``random_state`` would choose them,
        fitted on the flattened inputs: the same selection code on the same rows.
        """
        if is_dataset(X):
            raise TypeError(
                f"{type(self).__name__} chooses its anchors among the training rows: "
                "pass an array or tensor, not a skorch Dataset."
            )
        rows = to_numpy(X)
        # What RelativeTransformer.fit checks of its X: finite, 2-D, float (tensors
        # reach this point unchecked); float32 stays float32, as it does there.
        flat = check_array(
            rows.reshape(rows.shape[0], -1),
            dtype=[np.float64, np.float32],
            estimator=self,
            input_name="X",
        )
        if y is not None:
            check_consistent_length(flat, y)
        n_anchors = resolve_n_anchors(self.n_anchors, self.anchor_selection, len(flat))
        rng = check_random_state(self.random_state)
        indices = select_anchors(flat, y, n_anchors, self.anchor_selection, rng, np)
        self.anchor_indices_ = indices
        self.anchor_inputs_ = np.ascontiguousarray(rows[indices], dtype=np.float32)

    def _build_relative(self):
        """Build ``module_`` and ``relative_``; returns the number of anchors."""
        if not hasattr(self, "anchor_inputs_"):
            raise ValueError(
                f"{type(self).__name__} chooses its anchors among the training rows: "
                "call fit before using the net."
            )
        self.module_ = self._component("module", **self._input_defaults())
        self.relative_ = RelativeProjection(
            self.module_,
            self.anchor_inputs_,
            center=self.center,
            normalization=self.normalization,
        )
        return self.relative_.n_anchors

    @property
    def n_anchors_(self):
        return self.relative_.n_anchors

    @property
    def _n_features_out(self):
        return self.n_anchors_

    def transform(self, X):
        """Relative representation: cosine of each code to each anchor code.

        The raw cosines, before the normalisation that feeds the head; they agree
        with :class:`~skrelrep.RelativeTransformer` fitted on the anchor codes.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs in the format of the encoder.

        Returns
        -------
        R : ndarray of shape (n_samples, n_anchors_)
            Similarities (float32).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(self.relative_.similarities, X)

    def with_encoder(self, encoder, *, anchor_inputs=None):
        """Return a copy of this fitted net that runs another encoder.

        The relative layer (anchors and normalisation) and the head or decoder are
        kept as trained; the new encoder embeds the same anchor items. Nothing is
        refitted and ``self`` is unchanged. This is zero-shot stitching: the encoder
        may come from a net trained independently, with another seed, width or
        architecture.

        Parameters
        ----------
        encoder : fitted net, FrozenEstimator of a fitted net, or torch.nn.Module
            Where to take the encoder from (its ``module_`` for a net); copied.

        anchor_inputs : array-like or torch.Tensor of shape (n_anchors_, ...), \
default=None
            The anchor items in the new encoder's input format, in anchor order
            (parallel anchors, for an encoder that reads another domain). By
            default the current ``anchor_inputs_``.

        Returns
        -------
        net : object
            A fitted net of the same class that predicts through the new encoder.
        """
        return super().with_encoder(encoder, anchor_inputs=anchor_inputs)

    def _install_encoder(self, module, source, anchor_inputs=None):
        anchors = None
        if anchor_inputs is not None:
            anchors = _as_float32_array(anchor_inputs)
            if anchors.shape[0] != self.n_anchors_:
                raise ValueError(
                    f"anchor_inputs must hold one row per anchor: got "
                    f"{anchors.shape[0]} rows for {self.n_anchors_} anchors."
                )
            self.anchor_inputs_ = anchors
            if source is None:  # the input format is now the anchors' format
                self.input_shape_ = tuple(anchors.shape[1:])
                self.n_features_in_ = anchors.shape[1]
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        relative = self.relative_.with_encoder(module, anchors)
        try:
            with torch.no_grad():
                module.eval()
                module(relative.anchors[:1])
        except (RuntimeError, ValueError) as exc:
            raise ValueError(
                "The new encoder cannot read the anchor inputs. If it reads another "
                "domain, pass the same anchor items in its format as anchor_inputs "
                "(parallel anchors)."
            ) from exc
        self.relative_ = relative


def _as_float32_array(X):
    """Anchor inputs as a float32 array, checked as ``fit`` checks its ``X``.

    At least 2-D, one anchor or more, every entry finite: one NaN anchor would make
    every similarity, and so every prediction, NaN.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().to(torch.float32).cpu().numpy()
    return np.ascontiguousarray(
        check_array(X, dtype=np.float32, allow_nd=True, input_name="anchor_inputs")
    )
