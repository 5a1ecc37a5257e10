"""
=======================================
Searching the anchors with GridSearchCV
=======================================

The number of anchors, how they are chosen and whether the space is centred are
parameters of :class:`~skrelrep.RelativeTransformer`, so
:class:`~sklearn.model_selection.GridSearchCV` searches them like any other
hyper-parameter. Here the encoder is a small network trained once and frozen, the
relative projection and a logistic regression follow it in a
:class:`~sklearn.pipeline.Pipeline`, and the search scores every combination by
cross-validation.
"""

# %%
# A frozen encoder in a pipeline
# ------------------------------
# :class:`~sklearn.frozen.FrozenEstimator` keeps the trained encoder as it is when the
# search refits the pipeline, so only the projection and the classifier are fitted
# for each candidate.
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from skrelrep import MLPEncoder, RelativeTransformer

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.5, stratify=y, random_state=0
)
encoder = MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=0)
encoder.fit(X_train, y_train)
pipeline = make_pipeline(
    FrozenEstimator(encoder),
    RelativeTransformer(random_state=0),
    LogisticRegression(max_iter=1000),
)

# %%
# The search
# ----------
# ``make_pipeline`` names the step ``relativetransformer``, so its parameters are
# ``relativetransformer__<name>``.
param_grid = {
    "relativetransformer__n_anchors": [2, 5, 10, 20, 50, 100, 200],
    "relativetransformer__anchor_selection": ["random", "fps"],
    "relativetransformer__center": [False, True],
}
# The ReLU codes of the encoder are all non-negative, so uncentred anchors crowd in a
# narrow cone and ``fit`` warns of it at the ``center=False`` candidates; the search
# measures what that costs (the plot below), so the warning is silenced here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "The anchors crowd", UserWarning)
    search = GridSearchCV(pipeline, param_grid, cv=3).fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy {search.best_score_:.3f}, ", end="")
print(f"test accuracy {search.score(X_test, y_test):.3f}")

# %%
# Accuracy against the number of anchors
# --------------------------------------
# ``cv_results_`` holds every candidate; one line per selection strategy and
# centring. The encoder's code has 32 units: below that many anchors the
# representation drops directions of the latent space, and accuracy falls.
results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for (selection, center), group in results.groupby(
    ["param_relativetransformer__anchor_selection", "param_relativetransformer__center"]
):
    group = group.sort_values("param_relativetransformer__n_anchors")
    ax.errorbar(
        group["param_relativetransformer__n_anchors"],
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=f"{selection}, center={center}",
    )
ax.axvline(encoder.transform(X_train[:1]).shape[1], color="grey", ls=":", lw=1)
ax.text(34, 0.3, "code width", color="grey")
ax.set(
    xscale="log",
    xlabel="number of anchors",
    ylabel="cross-validated accuracy",
    title="RelativeTransformer parameters searched by GridSearchCV",
)
ax.legend()
plt.show()

# %%
# The classifier's accuracy saturates once the anchors span the latent space; beyond
# that, more anchors cost time without helping. Accuracy on one model is not the
# whole story, though: anchors are there to make *different* models agree, which
# :ref:`sphx_glr_auto_examples_plot_anchor_strategies.py` measures directly.
