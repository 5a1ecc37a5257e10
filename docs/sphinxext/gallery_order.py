"""The order of the examples in the gallery: from first steps to scaling out."""

ORDER = [
    "plot_quickstart.py",
    "plot_latent_spaces.py",
    "plot_grid_search.py",
    "plot_anchor_strategies.py",
    "plot_stitching.py",
    "plot_pretrained_stitching.py",
    "plot_cross_lingual.py",
    "plot_translation.py",
    "plot_reuse_classifier.py",
    "plot_faiss_migration.py",
    "plot_gpu.py",
    "plot_dask_grid_search.py",
]

# Examples quick enough (a few seconds each) to run in the test suite's docs build
# (SKRELREP_GALLERY=fast); the others are rendered there without running (the suite
# runs every example as a plain script, tests/test_examples.py).
FAST = ["plot_quickstart.py", "plot_latent_spaces.py"]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order``: listed files first, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (0, ORDER.index(filename), filename)
        return (1, 0, filename)
