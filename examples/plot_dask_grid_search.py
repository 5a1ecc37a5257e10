"""
=====================================================
Relative representations and grid search on Dask
=====================================================

The relative projection treats every row on its own, so it scales out by splitting the
rows: :class:`~skrelrep.RelativeTransformer` takes a :class:`dask.array.Array` and
returns a lazy dask array, computed block by block on the workers of a Dask cluster.
Fitting on a dask array picks the anchors without loading the data: random anchors
need only the row count, and only the chosen rows are computed.

This example starts a small local cluster, projects a dask array, searches the number
of anchors with :class:`~sklearn.model_selection.GridSearchCV` running on the cluster
through joblib's Dask backend, and predicts on a dask array with dask-ml's
:class:`~dask_ml.wrappers.ParallelPostFit`. To use a real cluster, connect the client
to its scheduler instead (see :ref:`dask`): nothing else changes.
"""

# %%
# A cluster
# ---------
# Two workers on this machine. ``processes=False`` keeps them in this process, which
# is quick to start; the projection runs in NumPy, which releases the GIL, so threads
# still work in parallel. On a real cluster write
# ``Client("tcp://scheduler-host:8786")`` instead.
import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask_ml.wrappers import ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrelrep import RelativeTransformer

cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
)
client = Client(cluster)

# %%
# Project a dask array
# --------------------
# The digits stand in for embeddings: 1797 rows of 64 features, split into blocks of
# 256 rows. ``fit`` picks 50 random rows as anchors and computes only those rows;
# ``transform`` builds a lazy array with one task per block.
X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
X_dask = da.from_array(X, chunks=(256, 64))

relative = RelativeTransformer(n_anchors=50, random_state=0).fit(X_dask)
R_dask = relative.transform(X_dask)
print(R_dask)

# %%
# The anchors enter the task graph once, as one key that every block depends on, so
# the scheduler sends them to each worker once. The result equals the NumPy one, and
# the anchors equal those of a NumPy fit with the same ``random_state``.
R = R_dask.compute()
numpy_relative = RelativeTransformer(n_anchors=50, random_state=0).fit(X)
print(
    "same anchors as a NumPy fit:",
    np.array_equal(relative.anchor_indices_, numpy_relative.anchor_indices_),
)
print("largest difference to NumPy:", np.abs(R - numpy_relative.transform(X)).max())

# %%
# Grid search on the cluster
# --------------------------
# Each fit of the search is a task on the cluster under
# ``joblib.parallel_config(backend="dask")``; the search itself is plain scikit-learn
# and finds what a local search finds.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
pipeline = make_pipeline(
    RelativeTransformer(center=True, random_state=0), LogisticRegression(max_iter=500)
)
n_anchors = [5, 10, 20, 40, 80, 160]
search = GridSearchCV(pipeline, {"relativetransformer__n_anchors": n_anchors}, cv=3)
with joblib.parallel_config(backend="dask"):
    search.fit(X_train, y_train)
print("best:", search.best_params_, f"accuracy {search.best_score_:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.errorbar(
    n_anchors,
    search.cv_results_["mean_test_score"],
    yerr=search.cv_results_["std_test_score"],
    marker="o",
    capsize=3,
)
ax.set_xscale("log")
ax.set_xlabel("number of anchors")
ax.set_ylabel("cross-validated accuracy")
ax.set_title("Relative representation + logistic regression")
fig.tight_layout()

# %%
# Predict on a dask array
# -----------------------
# :class:`~dask_ml.wrappers.ParallelPostFit` fits the pipeline as usual and maps
# ``predict`` over the blocks of a dask array: the prediction is lazy too.
model = ParallelPostFit(search.best_estimator_)
predicted = model.predict(da.from_array(X_test, chunks=(256, 64)))
print(predicted)
print(f"test accuracy: {(predicted.compute() == y_test).mean():.3f}")

# %%
client.close()
cluster.close()
