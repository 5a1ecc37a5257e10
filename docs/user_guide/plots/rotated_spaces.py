"""Two latent spaces that differ by a rotation, a reflection and a rescaling.

Absolute coordinates disagree; cosine similarities to the same anchors do not.
"""

import matplotlib.pyplot as plt
import numpy as np

from skrelrep import RelativeTransformer

rng = np.random.RandomState(0)
centres = np.array([[2.0, 0.6], [-0.8, 2.0], [-1.0, -1.8]])
labels = np.repeat(np.arange(3), 60)
space_a = centres[labels] + rng.normal(scale=0.45, size=(len(labels), 2))
angle = np.deg2rad(130)
rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
reflection = np.diag([1.0, -1.0])
space_b = 0.4 * space_a @ reflection @ rotation  # another "seed": same shape, new pose

anchors = [5, 70]  # one item of the first class, one of the second
# The paper's cosine, measured from the origin as the rays show. Centred on the mean of
# two anchors, the anchors would be exact opposites and so would the two columns.
relative = RelativeTransformer(anchor_selection=anchors, center=False)
rel_a = relative.fit_transform(space_a)
rel_b = relative.fit_transform(space_b)

colors = np.array(["tab:blue", "tab:orange", "tab:green"])[labels]
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
for ax, space, title in [
    (axes[0], space_a, "absolute space, model A"),
    (axes[1], space_b, "absolute space, model B"),
]:
    ax.scatter(*space.T, c=colors, s=12, alpha=0.7)
    for number, index in enumerate(anchors, start=1):
        x, y = space[index]
        ax.plot([0, x], [0, y], color="black", lw=1)
        ax.scatter(x, y, marker="*", s=250, color="black", zorder=3)
        ax.annotate(
            f"anchor {number}",
            (x, y),
            weight="bold",
            xytext=(10, -4),
            textcoords="offset points",
        )
    ax.scatter(0, 0, marker="+", color="black", s=60)
    ax.set(title=title, aspect="equal")
axes[2].scatter(*rel_a.T, s=70, facecolors="none", edgecolors=colors, label="model A")
axes[2].scatter(*rel_b.T, c="black", s=4, label="model B")
axes[2].set(
    title="relative space, both models",
    xlabel="cosine to anchor 1",
    ylabel="cosine to anchor 2",
    aspect="equal",
)
axes[2].legend(loc="center")
plt.show()
