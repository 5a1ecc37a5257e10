"""The two training tasks of the nets: classification and reconstruction.

:class:`ClassifierNetBase` encodes the labels, trains with them and offers
``predict`` and ``predict_proba``; :class:`AutoEncoderNetBase` trains the net to
reconstruct its input and turns skorch's ``predict`` off (an autoencoder is a
transformer here). Both start every ``fit`` (and the first ``partial_fit``) with
``NetBase._start_fit``, which validates the parameters, once.
"""

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)
from skorch import NeuralNet

from ._base import NetBase, _check_tensor

__all__ = ["AutoEncoderNetBase", "ClassifierNetBase"]


class ClassifierNetBase(ClassifierMixin, NetBase):
    """Label encoding, ``predict`` and ``predict_proba`` for the classifier nets.

    The labels are encoded as ``0 .. n_classes - 1`` (in the order of ``classes_``)
    before they reach skorch. Subclasses size their head with ``len(classes_)``.
    """

    def fit(self, X, y, **fit_params):
        """Train the net, re-initialising it unless ``warm_start``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs: rows of features, or images for convolutional encoders.

        y : array-like of shape (n_samples,)
            Class labels (any hashable values).

        **fit_params : dict
            Passed on to skorch (for example to the module's ``forward``).

        Returns
        -------
        self : object
            The fitted net.
        """
        X = self._start_fit(X)
        self.classes_, y = np.unique(self._validate_y(X, y), return_inverse=True)
        self._prepare_fit(X, y)
        return self._fit_validated(X, y, **fit_params)

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            Every class label, needed on the first call if ``y`` lacks some.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        first_call = not self.initialized_
        X = self._start_fit(X) if first_call else self._validate_X(X, reset=False)
        y = self._validate_y(X, y)
        if first_call:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        missing = ~np.isin(y, self.classes_)
        if missing.any():
            raise ValueError(
                f"y holds labels unseen before: {np.unique(y[missing]).tolist()}; "
                "pass every label with classes= on the first call."
            )
        y = np.searchsorted(self.classes_, y)
        if first_call:
            self._prepare_fit(X, y)
            self._initialize_seeded()
        return super().partial_fit(X, y, **fit_params)

    def _validate_y(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: it needs class labels to fit."
            )
        y = column_or_1d(y, warn=True)
        assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        check_consistent_length(X, y)
        return y

    def predict_proba(self, X):
        """Class probabilities (softmax of the head's logits).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``.
        """
        check_is_fitted(self)
        return super().predict_proba(self._validate_X(X, reset=False))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)  # first: it checks that the net is fitted
        return self.classes_[proba.argmax(axis=1)]


def _unavailable(net):
    return False


class AutoEncoderNetBase(NetBase):
    """Reconstruction training for the autoencoders: the target is the input itself.

    The target of every sample is its input, flattened; subclasses give their decoder
    ``prod(input_shape_)`` outputs.
    """

    def fit(self, X, y=None, **fit_params):
        """Train encoder and decoder to reconstruct ``X``, re-initialising the net.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,), default=None
            Not a target. Relative autoencoders use it only to choose anchors with
            ``anchor_selection="stratified"``; otherwise ignored.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        X = self._start_fit(X)
        self._prepare_fit(X, y)
        return self._fit_validated(X, _flat(X), **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,), default=None
            As in :meth:`fit`, and only on the first call.

        classes : None
            Ignored.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        first_call = not self.initialized_
        if first_call:
            X = self._start_fit(X)
            self._prepare_fit(X, y)
            self._initialize_seeded()
        else:
            X = self._validate_X(X, reset=False)
        return super().partial_fit(X, _flat(X), **fit_params)

    def _decode(self, X, decoder):
        """Run ``decoder`` on codes in batches; reshape to the input format."""
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):
            X = X.to(torch.float32)
            _check_tensor(X, self)
            if X.ndim != 2:
                raise ValueError(
                    f"Expected a 2-D tensor of codes, got shape {tuple(X.shape)}."
                )
        else:
            X = check_array(X, dtype=np.float32, input_name="X")
        try:
            width = self._n_features_out
        except AttributeError:  # an encoder that does not say its width
            width = None
        if width is not None and X.shape[1] != width:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}."
                f"inverse_transform expects {width} (what transform returns)."
            )
        decoded = self._map_batches(decoder, X)
        return decoded.reshape(decoded.shape[0], *self.input_shape_)

    # skorch's predict and predict_proba would return flat reconstructions; an
    # autoencoder is a transformer here (inverse_transform decodes).
    predict = available_if(_unavailable)(NeuralNet.predict)
    predict_proba = available_if(_unavailable)(NeuralNet.predict_proba)


def _flat(X):
    """Reconstruction targets: one flat row per sample (a view, not a copy)."""
    return X.reshape(X.shape[0], -1)
