"""The projections compared, each prepared outside the timed call.

Every ``prepare_*`` function takes the raw embeddings ``X`` and the raw anchor rows
``A`` and returns a zero-argument callable computing the cosine similarity of every
row of ``X`` to every anchor (``Nystroem`` computes its own feature map instead).
Work that a user does once per anchor set (fitting, normalising the anchors where a
method keeps them) happens in ``prepare``; everything per input happens in the call.
"""

import importlib.util

import numpy as np

__all__ = ["METHODS", "available_methods"]


def _unit_rows(M):
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    return M / np.where(norms > 0, norms, 1)


def prepare_gemm(X, A):
    """The hardware limit: one GEMM of inputs normalised beforehand (not timed)."""
    X_unit, A_unit_t = _unit_rows(X), _unit_rows(A).T
    return lambda: X_unit @ A_unit_t


def prepare_gemm_into(X, A):
    """The same GEMM into an output allocated beforehand: no page faults either."""
    X_unit, A_unit_t = _unit_rows(X), _unit_rows(A).T
    out = np.empty((X.shape[0], A.shape[0]), dtype=X.dtype)
    return lambda: np.matmul(X_unit, A_unit_t, out=out)


def prepare_skrelrep(X, A, center=False):
    from skrelrep import RelativeTransformer

    # Explicit indices of A's rows would need X; fitting on A itself is the same
    # anchor set (n_anchors=None makes every fitted row an anchor, in order).
    relative = RelativeTransformer(n_anchors=None, center=center).fit(A)
    return lambda: relative.transform(X)


def prepare_skrelrep_centered(X, A):
    """``center=True`` (the default): X minus the anchors' mean, then the cosine."""
    return prepare_skrelrep(X, A, center=True)


def prepare_numpy(X, A):
    """What one writes by hand: normalise a copy of X, then multiply."""

    def project():
        X_unit = X / np.linalg.norm(X, axis=1, keepdims=True)
        return X_unit @ _unit_rows(A).T

    return project


def prepare_sklearn_cosine(X, A):
    from sklearn.metrics.pairwise import cosine_similarity

    return lambda: cosine_similarity(X, A)


def prepare_torch(X, A):
    import torch
    import torch.nn.functional as F

    X_t, A_t = torch.from_numpy(X), torch.from_numpy(A)

    def project():
        with torch.inference_mode():
            return (F.normalize(X_t, dim=1) @ F.normalize(A_t, dim=1).T).numpy()

    return project


def prepare_nystroem(X, A):
    from sklearn.kernel_approximation import Nystroem

    nystroem = Nystroem(kernel="cosine", n_components=A.shape[0], random_state=0)
    nystroem.fit(A)
    return lambda: nystroem.transform(X)


def prepare_latentis(X, A):
    import torch
    from latentis.transform.projection import cosine_proj

    X_t, A_t = torch.from_numpy(X), torch.from_numpy(A)

    def project():
        with torch.inference_mode():
            return cosine_proj(X_t, anchors=A_t).numpy()

    return project


# name -> (prepare, module it needs, the float64 reference its output is checked
# against: "cosine", "centred" (the cosine of X and A minus A's mean) or None)
METHODS = {
    "gemm": (prepare_gemm, None, "cosine"),
    "gemm_into": (prepare_gemm_into, None, "cosine"),
    "skrelrep": (prepare_skrelrep, None, "cosine"),
    "skrelrep_centered": (prepare_skrelrep_centered, None, "centred"),
    "numpy": (prepare_numpy, None, "cosine"),
    "sklearn_cosine": (prepare_sklearn_cosine, None, "cosine"),
    "torch": (prepare_torch, "torch", "cosine"),
    "nystroem": (prepare_nystroem, None, None),
    "latentis": (prepare_latentis, "latentis", "cosine"),
}


def available_methods():
    """Method name -> None if runnable here, else why not."""
    return {
        name: (
            None
            if module is None or importlib.util.find_spec(module) is not None
            else f"{module} is not installed"
        )
        for name, (_, module, _) in METHODS.items()
    }
