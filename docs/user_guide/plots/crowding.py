"""Cosine crowding: a common offset squeezes every cosine towards 1; centring undoes it."""

import matplotlib.pyplot as plt
import numpy as np

from skrelrep import RelativeTransformer

rng = np.random.RandomState(0)
offset = np.zeros(32)
offset[0] = 6.0
X = rng.normal(size=(500, 32)) + offset  # every embedding shares one large component
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
for center in (False, True):
    values = RelativeTransformer(50, center=center, random_state=0).fit_transform(X)
    ax.hist(values.ravel(), bins=80, range=(-1, 1), alpha=0.6, label=f"center={center}")
ax.set(xlabel="cosine to an anchor", ylabel="count", yticks=[])
ax.legend()
plt.show()
