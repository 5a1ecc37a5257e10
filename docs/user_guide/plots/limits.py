"""What the cosine does not absorb: translations (unless centred) and stretching."""

import matplotlib.pyplot as plt
import numpy as np

from skrelrep import RelativeTransformer

rng = np.random.RandomState(0)
space_a = rng.normal(size=(300, 8)) + 0.3
angle_map = np.linalg.qr(rng.normal(size=(8, 8)))[0]  # a random orthogonal map
cases = [
    ("rotated and translated,\nnot centred", space_a @ angle_map + 1.5, False),
    ("rotated and translated,\ncentred", space_a @ angle_map + 1.5, True),
    (
        "stretched along some axes,\ncentred",
        space_a * np.array([4.0, 4.0, 1, 1, 1, 1, 0.3, 0.3]),
        True,
    ),
]
fig, axes = plt.subplots(1, 3, figsize=(9, 3.6), layout="constrained", sharey=True)
for ax, (title, space_b, center) in zip(axes, cases, strict=True):
    relative = RelativeTransformer(n_anchors=20, center=center, random_state=0)
    rel_a = relative.fit_transform(space_a)
    rel_b = relative.reanchor(space_b[relative.anchor_indices_]).transform(space_b)
    ax.scatter(rel_a.ravel(), rel_b.ravel(), s=2, alpha=0.3)
    ax.plot([-1, 1], [-1, 1], color="black", lw=1)
    error = np.abs(rel_a - rel_b).max()
    ax.set(
        title=f"{title}\nlargest difference {error:.2f}",
        xlabel="relative value, space A",
        xlim=(-1, 1),
        ylim=(-1, 1),
        aspect="equal",
    )
axes[0].set_ylabel("relative value, space B")
plt.show()
