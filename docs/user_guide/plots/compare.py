"""The figure of compare.rst: the permutation nulls of its example (the same code)."""

import matplotlib.pyplot as plt
import numpy as np

from skrelrep.metrics import compare_spaces
from skrelrep.plotting import plot_permutation_nulls

rng = np.random.RandomState(0)
A = rng.normal(size=(400, 32))  # model 1: 32 features
# Model 2 sees the same items in another basis, 48 features wide, with noise.
basis = np.linalg.qr(rng.normal(size=(48, 48)))[0][:32]
B = A @ basis + 0.8 * rng.normal(size=(400, 48))

comparison = compare_spaces(A, B, n_anchors=100, k=10, n_permutations=99)
plot_permutation_nulls(comparison)
plt.show()
