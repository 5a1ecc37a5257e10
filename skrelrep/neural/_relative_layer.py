"""The relative layer: end-to-end relative training as in Moschella et al. (2023).

:class:`RelativeProjection` is a torch module, the encoder followed by the cosine of
each code to the codes of the anchor inputs. Every forward pass embeds the anchor
inputs with the same encoder as the batch, so the anchors move with the encoder while
it trains and gradients flow through both paths. The cosine
(:func:`_cosine_to_anchors`) follows the convention of
:func:`skrelrep.similarity._cosine.cosine_projection` (centre by the anchors' mean, a
zero row projects to zero, every other row to its direction, at any magnitude the
dtype can represent); the tests check the two against each other.
"""

import copy
import math

import torch
from torch import nn

__all__ = ["RelativeProjection"]

NORMALIZATIONS = ("layernorm", None)


def _cosine_to_anchors(codes, anchor_codes, *, center=False):
    """Cosine similarity of each code to each anchor code, differentiable.

    Unlike the core's projection, both sides are torch tensors from the same encoder
    and gradients flow into both.

    Parameters
    ----------
    codes : torch.Tensor of shape (n_samples, n_components)
        Latent codes of the batch.

    anchor_codes : torch.Tensor of shape (n_anchors, n_components)
        Latent codes of the anchors, from the same encoder.

    center : bool, default=False
        Subtract the anchor codes' mean from both sides first.

    Returns
    -------
    similarities : torch.Tensor of shape (n_samples, n_anchors)

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural._relative_layer import _cosine_to_anchors
    >>> codes = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    >>> anchors = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> _cosine_to_anchors(codes, anchors)
    tensor([[1.0000, 0.7071],
            [0.0000, 0.0000]])
    """
    residue = None
    if center:
        mean = anchor_codes.mean(dim=0)
        codes = codes - mean
        anchor_codes = anchor_codes - mean
        residue = _centring_residue(mean)
    return _unit_rows(codes, residue) @ _unit_rows(anchor_codes, residue).T


def _centring_residue(mean):
    """Norm below which a centred code is only the rounding error of centring.

    The bound of :func:`skrelrep.utils._norms.centring_residue`, as a tensor on the
    codes' device (no synchronisation): ``4 * sqrt(n_components) * eps * max|mean|``.
    """
    if mean.shape[0] == 0:
        return None
    eps = torch.finfo(mean.dtype).eps
    return 4.0 * math.sqrt(mean.shape[0]) * eps * mean.detach().abs().amax()


def _unit_rows(codes, residue=None):
    """Each row scaled to unit norm (zero rows stay zero), at any magnitude.

    As :func:`skrelrep.utils._norms.normalize_rows` does, each row is divided by its
    largest absolute entry before its norm is taken, so nothing overflows or
    underflows (``F.normalize`` squares the entries and divides by ``max(norm,
    1e-12)``, which is wrong for codes below 1e-12 or above about 1e19 in float32).
    The divisor is detached: the unit row does not depend on it, so the gradient is
    that of ``x / ||x||`` exactly. After scaling, a nonzero row's squared norm is at
    least 1 (its largest entry is 1) and a zero row's is 0: clamping it at 1 leaves
    the other rows alone, keeps zero rows zero, and never takes ``sqrt`` at 0, so the
    gradients stay finite (no NaN) for zero rows too. Rows whose norm is at most
    ``residue`` (centred codes equal to the mean up to rounding) become zero rows, as
    in the core, rather than unit vectors pointing nowhere in particular.

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural._relative_layer import _unit_rows
    >>> _unit_rows(torch.tensor([[3e-30, 4e-30], [0.0, 0.0], [0.0, 2e30]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000],
            [0.0000, 1.0000]])
    """
    if codes.shape[1] == 0:  # codes of no components: zero rows
        return codes
    largest = codes.detach().abs().amax(dim=1, keepdim=True)
    scaled = codes / torch.where(largest > 0, largest, torch.ones_like(largest))
    squared = scaled.square().sum(dim=1, keepdim=True)
    unit = scaled * torch.rsqrt(squared.clamp_min(1.0))
    if residue is None:
        return unit
    near_mean = largest * squared.detach().sqrt() <= residue
    return torch.where(near_mean, torch.zeros_like(unit), unit)


class RelativeProjection(nn.Module):
    """Encoder followed by the relative projection onto its own anchor embeddings.

    The anchor *inputs* are a registered buffer: they follow the module across devices
    (``.to(device)``) and into its ``state_dict``. Each forward pass encodes the batch
    and the anchors with ``encoder``, takes the cosine of every code to every anchor
    code (after centring on the anchors' mean when ``center``), then normalises the
    result with a :class:`torch.nn.LayerNorm`, as the paper's relative heads do.

    Everything after the encoder (the anchors, the normalisation and what follows it)
    depends on the encoder only through angles between codes, so another encoder
    trained independently on the same task can replace it: see :meth:`with_encoder`.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch of inputs to codes of shape ``(n, n_components)`` (codes with more
        dimensions are flattened).

    anchors : array-like or torch.Tensor of shape (n_anchors, ...)
        Anchor inputs, in the input format of ``encoder``. Stored as float32.

    center : bool, default=False
        Subtract the anchor codes' mean from codes and anchor codes before the cosine.

    normalization : {"layernorm"} or None, default="layernorm"
        Normalisation of the similarities before they leave the layer. ``None`` returns
        the raw cosines.

    Attributes
    ----------
    anchors : torch.Tensor of shape (n_anchors, ...)
        The anchor inputs (a buffer).

    n_anchors : int
        Number of anchors, the width of the output.

    Examples
    --------
    >>> import torch
    >>> from skrelrep.neural import MLPEncoderModule, RelativeProjection
    >>> _ = torch.manual_seed(0)
    >>> encoder = MLPEncoderModule(n_features=4, n_components=3)
    >>> layer = RelativeProjection(encoder, torch.randn(6, 4))
    >>> layer(torch.randn(2, 4)).shape
    torch.Size([2, 6])

    The output does not change when the codes are rotated:

    >>> Q, _ = torch.linalg.qr(torch.randn(3, 3))
    >>> rotated = torch.nn.Sequential(encoder, torch.nn.Linear(3, 3, bias=False))
    >>> with torch.no_grad():
    ...     _ = rotated[1].weight.copy_(Q)
    ...     x = torch.randn(2, 4)
    ...     same = torch.allclose(
    ...         layer.similarities(x), layer.with_encoder(rotated).similarities(x),
    ...         atol=1e-6)
    >>> same
    True
    """

    def __init__(self, encoder, anchors, *, center=False, normalization="layernorm"):
        super().__init__()
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}."
            )
        anchors = torch.as_tensor(anchors, dtype=torch.float32)
        if anchors.ndim < 2 or anchors.shape[0] == 0:
            raise ValueError(
                "anchors must hold at least one anchor input per row, got shape "
                f"{tuple(anchors.shape)}."
            )
        if center and anchors.shape[0] < 2:
            raise ValueError("center=True needs at least 2 anchors.")
        self.encoder = encoder
        self.register_buffer("anchors", anchors.clone())
        self.center = center
        self.normalization = normalization
        self.norm = (
            nn.LayerNorm(anchors.shape[0]) if normalization == "layernorm" else None
        )

    @property
    def n_anchors(self):
        return self.anchors.shape[0]

    def similarities(self, x):
        """Cosine of each code of ``x`` to each anchor code, before normalisation.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, ...)
            A batch of inputs for the encoder.

        Returns
        -------
        similarities : torch.Tensor of shape (n_samples, n_anchors)
            The raw cosines (what :meth:`forward` normalises).
        """
        codes = self.encoder(x).flatten(1)
        anchor_codes = self.encoder(self.anchors).flatten(1)
        return _cosine_to_anchors(codes, anchor_codes, center=self.center)

    def forward(self, x):
        similarities = self.similarities(x)
        return similarities if self.norm is None else self.norm(similarities)

    def with_encoder(self, encoder, anchors=None):
        """Return a copy that uses ``encoder`` (and optionally other anchor inputs).

        The normalisation parameters are copied; ``encoder`` is used as given, not
        copied. ``anchors`` must be the same anchor items in ``encoder``'s input format
        (parallel anchors), in the same order.

        Parameters
        ----------
        encoder : torch.nn.Module
            The new encoder.

        anchors : array-like or torch.Tensor of shape (n_anchors, ...), default=None
            Anchor inputs for the new encoder; by default the current ones.

        Returns
        -------
        layer : RelativeProjection
        """
        if anchors is not None:
            anchors = torch.as_tensor(anchors, dtype=torch.float32)
            if anchors.shape[0] != self.n_anchors:
                raise ValueError(
                    f"Expected one input per anchor: got {anchors.shape[0]} rows for "
                    f"{self.n_anchors} anchors."
                )
        original = self.encoder
        # Detach the current encoder so that deepcopy does not copy its weights.
        self._modules["encoder"] = None
        try:
            new = copy.deepcopy(self)
        finally:
            self._modules["encoder"] = original
        new.encoder = encoder
        if anchors is not None:
            new.anchors = anchors.to(self.anchors.device).clone()
        return new

    def extra_repr(self):
        return (
            f"n_anchors={self.n_anchors}, center={self.center}, "
            f"normalization={self.normalization!r}"
        )
