"""The parameter and attribute docs of the nets, written once.

The four nets share most of their parameters (declared once, in :class:`NetBase` and
:class:`RelativeNetBase`), so they share their entries too: each net's docstring
holds ``{{name}}`` lines that :func:`net_doc` fills from :data:`NET_DOCS`, with the
defaults read from the signatures (see ``utils/_docstrings.py``). The context words:
``$after`` names the module after the encoder (``head`` or ``decoder``), ``$latent``
what it reads, and ``$anchors`` adds the anchors to what ``random_state`` seeds.
"""

from ..utils._docstrings import fill_doc

__all__ = ["NET_DOCS", "net_doc"]

NET_DOCS = {
    # -- parameters ----------------------------------------------------------------
    "module": """module : type of torch.nn.Module or torch.nn.Module, default=$default
    The encoder, configured with ``module__*`` parameters. It maps a batch to codes
    of shape ``(n, n_components)`` and should expose ``n_components``.""",
    "head": """head : type of torch.nn.Module or torch.nn.Module, default=$default
    The classification head on $latent, returning logits; configured with
    ``head__*`` parameters (``head__hidden_units=()`` for a linear head).""",
    "decoder": """decoder : type of torch.nn.Module or torch.nn.Module, default=$default
    Maps $latent to flat reconstructions; configured with ``decoder__*``
    parameters (``decoder__output_activation=torch.nn.Sigmoid`` for inputs in
    ``[0, 1]``).""",
    "n_anchors": """n_anchors : int, float or None, default=$default
    Number of anchors among the training rows: a float in ``(0, 1]`` is a fraction of
    them, ``None`` takes every row; as in :class:`~skrelrep.RelativeTransformer`.""",
    "anchor_selection": """anchor_selection : {"random", "stratified", "fps", \
"kmeans"}, array-like or callable, default=$default
    How the anchors are chosen among the (flattened) training rows: the same rows
    as :class:`~skrelrep.RelativeTransformer` would choose. See :ref:`anchors`.""",
    "center": """center : bool, default=$default
    Centre codes and anchor codes on the anchor codes' mean before the cosine. Off
    by default, as in the paper: the encoder learns through the relative layer (see
    :ref:`centring_evidence` for frozen encoders).""",
    "normalization": """normalization : {"layernorm"} or None, default=$default
    Normalisation of the similarities before the $after.""",
    "criterion": """criterion : type of torch.nn.Module, default=$default
    The loss, configured with ``criterion__*`` parameters.""",
    "optimizer": """optimizer : type of torch.optim.Optimizer, default=$default
    The optimizer, configured with ``optimizer__*`` parameters.""",
    "lr": """lr : float, default=$default
    Learning rate.""",
    "max_epochs": """max_epochs : int, default=$default
    Epochs per call to ``fit``.""",
    "batch_size": """batch_size : int, default=$default
    Samples per batch, for training and for inference.""",
    "train_split": """train_split : callable or None, default=$default
    The internal validation split of skorch (for example
    ``skorch.dataset.ValidSplit(5)``); ``None`` trains on all the data.""",
    "random_state": """random_state : int, RandomState instance or None, \
default=$default
    Seeds ${anchors}the initial weights, the batch shuffling and dropout, on forked
    RNGs that leave the global ones as they were; an int reproduces the net on the
    same hardware.""",
    "verbose": """verbose : int, default=$default
    Print skorch's epoch log when positive.""",
    "kwargs": """**kwargs : dict
    Other :class:`skorch.NeuralNet` parameters (``device``, ``callbacks``,
    ``warm_start``, ...) and the prefixed ones (``module__*``, ``${after}__*``,
    ``optimizer__*``, ...), such as ``module__n_components=16``.""",
    # -- attributes ----------------------------------------------------------------
    "module_": """module_ : torch.nn.Module
    The trained encoder.""",
    "head_": """head_ : torch.nn.Module
    The trained head.""",
    "decoder_": """decoder_ : torch.nn.Module
    The trained decoder.""",
    "relative_": """relative_ : RelativeProjection
    The relative layer; it holds the anchor inputs as a buffer and runs
    ``module_``.""",
    "classes_": """classes_ : ndarray of shape (n_classes,)
    Class labels.""",
    "anchor_indices_": """anchor_indices_ : ndarray of shape (n_anchors_,)
    Rows of the training data that became anchors, in anchor order.""",
    "anchor_inputs_": """anchor_inputs_ : ndarray of shape (n_anchors_, ...)
    The anchor inputs (float32), in the input format of the encoder.""",
    "n_anchors_": """n_anchors_ : int
    Number of anchors.""",
    "input_shape_": """input_shape_ : tuple of int
    Shape of one input sample seen in ``fit``.""",
    "n_features_in_": """n_features_in_ : int
    Number of features (or channels, for images) seen in ``fit``.""",
    "feature_names_in_": """feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``, for DataFrame input with string column
    names.""",
    "history_": """history_ : skorch.history.History
    Training history (losses per epoch).""",
}


def net_doc(*, after, latent, anchors=""):
    """Fill a net's docstring from :data:`NET_DOCS`.

    Parameters
    ----------
    after : {"head", "decoder"}
        The module after the encoder (or after the relative layer).

    latent : str
        What that module reads, in words.

    anchors : str, default=""
        Words put before what ``random_state`` seeds (the relative nets' anchors).
    """
    return fill_doc(NET_DOCS, after=after, latent=latent, anchors=anchors)
