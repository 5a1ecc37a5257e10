"""
=================================
Relative representations on a GPU
=================================

:class:`~skrelrep.RelativeTransformer` follows scikit-learn's array API support: with
array API dispatch turned on, it takes torch tensors, keeps its anchors on the
tensor's device and projects there, in one matrix product. This example runs on the
GPU when torch sees one and on the CPU otherwise, with the same code. It checks the
tensor result against NumPy, times the projection of a large matrix, and carries a
fitted transformer from one machine to another through a pickle. The
:ref:`User Guide <gpu>` has the details.
"""

# %%
# Turning on array API dispatch
# -----------------------------
# scikit-learn dispatches to torch only when SciPy's array API support is on too.
# SciPy reads the environment variable ``SCIPY_ARRAY_API`` once, when it is first
# imported, so it is set before anything imports SciPy: at the top of the script, as
# here, or in the shell (``SCIPY_ARRAY_API=1 python script.py``).
import os

# First thing: SciPy, imported by scikit-learn, reads this only at its own import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pickle
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.utils._array_api import get_namespace_and_device, move_estimator_to

from skrelrep import RelativeTransformer

device = "cuda" if torch.cuda.is_available() else "cpu"


def kind(array):
    """The array's type, e.g. ``torch.Tensor`` or ``numpy.ndarray``."""
    return f"{type(array).__module__}.{type(array).__name__}"


print(f"torch {torch.__version__}; computing on: {device}", end="")
print(f" ({torch.cuda.get_device_name()})" if device == "cuda" else " (no GPU seen)")

# %%
# Tensors in, tensors out
# -----------------------
# 32 principal components of the digits stand in for an encoder's codes, in float32
# as a neural encoder returns them. The same transformer is fitted on the NumPy array
# and, with dispatch on, on a tensor on ``device``. :func:`sklearn.config_context`
# keeps the setting local to the ``with`` block; :func:`sklearn.set_config` would turn
# it on for the rest of the session.
X, y = load_digits(return_X_y=True)
Z = PCA(n_components=32, random_state=0).fit_transform(X / 16).astype(np.float32)
Z_device = torch.asarray(Z, device=device)

params = dict(n_anchors=200, center=True, random_state=0)
relative_numpy = RelativeTransformer(**params).fit(Z)
R_numpy = relative_numpy.transform(Z)
with sklearn.config_context(array_api_dispatch=True):
    relative = RelativeTransformer(**params).fit(Z_device)
    R_device = relative.transform(Z_device)

print(f"output: {kind(R_device)} {tuple(R_device.shape)}, {R_device.dtype}")
print(f"output on {R_device.device}, anchors_ on {relative.anchors_.device}")
# A CUDA tensor must come back to the host (.cpu()) before NumPy can read it.
indices = relative.anchor_indices_.cpu().numpy()
print(
    "same anchors as with NumPy:",
    np.array_equal(indices, relative_numpy.anchor_indices_),
)
difference = np.abs(R_device.cpu().numpy() - R_numpy).max()
print(f"largest difference from the NumPy result: {difference:.1e}")

# %%
# As in scikit-learn, ``transform`` needs input in the namespace and on the device
# that ``fit`` saw, and says how to move the estimator otherwise:
with sklearn.config_context(array_api_dispatch=True):
    try:
        relative.transform(Z)
    except ValueError as error:
        print(textwrap.fill(str(error), width=88))

# %%
# Timing the projection
# ---------------------
# The projection costs one matrix product of the samples with the anchors. Its time
# depends on the shapes, not on the values, so random numbers stand in for 50,000
# sentence embeddings of width 768, projected onto 1,000 anchors. Each timing is the
# best of three runs after a warm-up run (the first call pays one-off costs: CUDA
# kernels, library handles). CUDA runs asynchronously, so the clock is read only
# after the device has finished.
rng = np.random.default_rng(0)
Z_large = rng.standard_normal((50_000, 768), dtype=np.float32)


def synchronize():
    """Wait until the GPU has finished its queued work (nothing to wait for on CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def best_time(function, repeats=3):
    """Shortest wall-clock time of ``function()`` over ``repeats`` runs, and its result."""
    function()
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        result = function()
        synchronize()
        times.append(time.perf_counter() - start)
    return min(times), result


large = dict(n_anchors=1000, random_state=0)
relative_large = RelativeTransformer(**large).fit(Z_large)
timings = {}
timings["NumPy, cpu"], R_large = best_time(lambda: relative_large.transform(Z_large))

synchronize()
start = time.perf_counter()
Z_large_device = torch.asarray(Z_large, device=device)
synchronize()
copy_time = time.perf_counter() - start
with sklearn.config_context(array_api_dispatch=True):
    relative_large_device = RelativeTransformer(**large).fit(Z_large_device)
    timings[f"torch, {device}"], R_large_device = best_time(
        lambda: relative_large_device.transform(Z_large_device)
    )

difference = np.abs(R_large_device.cpu().numpy() - R_large).max()
print(f"largest difference from NumPy on the large matrix: {difference:.1e}")
print(f"copying the matrix into a tensor on {device}: {copy_time:.3f} s")
for name, seconds in timings.items():
    print(f"transform, {name}: {seconds:.3g} s")

# %%
# On a GPU, the product is spread over thousands of cores and the torch bar is
# usually much the shorter. Copying the data to the GPU takes time of its own (printed
# above; data that a torch encoder left on the GPU needs no copy), and so does bringing
# the output back with ``.cpu()``: keep it on the device for the next step. On a
# CPU-only machine, both bars run on the CPU and call a CPU matrix-multiply library
# (and the tensor shares the NumPy array's memory: nothing is copied). Their times are
# then of the same order, and which one wins depends on the libraries and thread
# settings. The figure shows what this run measured.
fig, ax = plt.subplots(figsize=(7, 2.4), layout="constrained")
names, seconds = list(timings), list(timings.values())
bars = ax.barh(names, seconds, color=["tab:blue", "tab:orange"])
ax.bar_label(bars, labels=[f"{s:.3g} s" for s in seconds], padding=3)
ax.set(
    xlim=(0, 1.25 * max(seconds)),
    xlabel="seconds (best of 3)",
    title="transform: 50,000 x 768 float32 onto 1,000 anchors",
)
ax.invert_yaxis()  # NumPy on top

# %%
# Pickling and moving between machines
# ------------------------------------
# A pickled :class:`~skrelrep.RelativeTransformer` holds its fitted arrays as NumPy
# arrays, whatever device it was fitted on, so the transformer fitted on ``device``
# above loads on a machine without a GPU and transforms NumPy input there, with no
# dispatch needed.
restored = pickle.loads(pickle.dumps(relative))
for name in ("anchors_", "anchor_mean_", "anchor_indices_"):
    print(f"restored {name}: {kind(getattr(restored, name))}")
R_restored = restored.transform(Z)
difference = np.abs(R_restored - R_device.cpu().numpy()).max()
print(f"NumPy output; largest difference from the tensor output: {difference:.1e}")

# %%
# To compute on tensors again, move the transformer to their namespace and device the
# way scikit-learn moves its own estimators (``move_estimator_to``, a private helper
# of scikit-learn >= 1.8). It returns a moved copy and leaves ``restored`` as it is.
with sklearn.config_context(array_api_dispatch=True):
    xp, _, target = get_namespace_and_device(Z_device)
    moved = move_estimator_to(restored, xp, target)
    R_moved = moved.transform(Z_device)
print(f"moved anchors_ on {moved.anchors_.device}; output on {R_moved.device}")
print(f"restored anchors_ still a {kind(restored.anchors_)}")
difference = (R_moved - R_device).abs().max().item()
print(f"largest difference from before pickling: {difference:.1e}")

# %%
# Training a net on the GPU
# -------------------------
# The nets of :mod:`skrelrep.neural` are skorch nets and take skorch's ``device``
# parameter. A :class:`~skrelrep.neural.RelativeClassifier` (encoder, relative layer,
# classification head, trained end to end) trains on ``device``; its predictions and
# relative codes come back as NumPy arrays on the host, and, as skorch promises, a
# net trained on a GPU pickles and loads on a machine without one.
from skrelrep.neural import RelativeClassifier

X_train, X_test, y_train, y_test = train_test_split(
    (X / 16).astype(np.float32), y, test_size=0.5, stratify=y, random_state=0
)
net = RelativeClassifier(n_anchors=100, max_epochs=20, device=device, random_state=0)
net.fit(X_train, y_train)
print(f"encoder weights on {next(net.module_.parameters()).device}")
print(f"relative codes: {kind(net.transform(X_test))}")
print(f"test accuracy: {net.score(X_test, y_test):.3f}")

plt.show()
