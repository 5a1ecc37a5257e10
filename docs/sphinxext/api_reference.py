"""Write the API reference page from the packages' ``__all__``.

The sections below give the order and the grouping; every public name of each module
is listed whatever they say: a name exported but not grouped here goes to an "Other"
table of its module, so a new export can never be missing from the reference.
"""

import importlib

# (module, title, description, groups); a group is (heading or None, names).
SECTIONS = [
    (
        "skrelrep",
        "Relative representations and stitching",
        "The core estimators; they need only NumPy, SciPy and scikit-learn.",
        [
            ("Relative projection", ["RelativeTransformer", "GreedyAnchorSelector"]),
            ("Stitching", ["StitchedPipeline", "stitch"]),
            (
                "Latent space translation",
                ["LatentTranslator", "stitch_by_translation", "stitch_decoder"],
            ),
            ("Encoders", ["MLPEncoder"]),
        ],
    ),
    (
        "skrelrep.similarity",
        "Similarities",
        "How a sample is compared with each anchor: the ``similarity`` of "
        ":class:`~skrelrep.RelativeTransformer` (see :doc:`user_guide/variants`).",
        [
            ("The paper's similarity", ["CosineSimilarity"]),
            (
                "Distances",
                ["EuclideanSimilarity", "ManhattanSimilarity", "ChebyshevSimilarity"],
            ),
            ("Several at once", ["CombinedSimilarity"]),
            ("Your own", ["Similarity"]),
        ],
    ),
    (
        "skrelrep.metrics",
        "Comparing latent spaces",
        "",
        [
            (
                "Raw spaces of any widths",
                ["mutual_knn", "neighbourhood_jaccard", "linear_cka"],
            ),
            (
                "Parallel relative codes",
                [
                    "retrieval_agreement",
                    "RetrievalAgreement",
                    "mean_reciprocal_rank",
                    "cosine_agreement",
                    "ChanceAgreementWarning",
                ],
            ),
            ("More than chance?", ["permutation_test", "PermutationTestResult"]),
            ("All at once", ["compare_spaces", "SpaceComparison"]),
            (
                "Index migration",
                [
                    "retrieval_scores",
                    "RetrievalScores",
                    "migration_scores",
                    "MigrationScores",
                ],
            ),
            ("Stitching", ["stitching_matrix", "pivot_stitching_matrix"]),
            ("Deprecated", ["jaccard_at_k"]),
        ],
    ),
    (
        "skrelrep.retrieval",
        "Retrieval across models",
        "Search an index embedded by an old model with a new model's queries, and "
        "forecast how much of re-embedding's retrieval that keeps "
        "(see :doc:`user_guide/migration`).",
        [
            ("Bridging", ["QueryBridge"]),
            ("Serving and saving", ["faiss_index", "search_faiss", "load_bridge"]),
        ],
    ),
    (
        "skrelrep.datasets",
        "Data sets",
        "",
        [],
    ),
    (
        "skrelrep.encoders",
        "Pretrained and word encoders",
        "See :doc:`install` for the extras.",
        [],
    ),
    (
        "skrelrep.neural",
        "Neural networks",
        "PyTorch modules and skorch nets: encoders, autoencoders and end-to-end "
        "relative models. Optional: ``pip install torch==2.13.0 skrelrep[torch]``.",
        [
            (
                "skorch nets",
                [
                    "NeuralEncoder",
                    "AutoEncoder",
                    "RelativeClassifier",
                    "RelativeAutoEncoder",
                ],
            ),
            ("The relative layer", ["RelativeProjection"]),
            (
                "PyTorch modules",
                ["MLPEncoderModule", "CNNEncoderModule", "MLPDecoderModule"],
            ),
        ],
    ),
    (
        "skrelrep.experiments",
        "Experiments",
        "The paper's experiments, run by ``skrelrep reproduce`` "
        "(see :doc:`user_guide/reproduction`).",
        [],
    ),
    (
        "skrelrep.report",
        "Reports",
        "Experiment results as a Markdown report with figures.",
        [],
    ),
    (
        "skrelrep.plotting",
        "Figures of a comparison",
        "The figures of ``skrelrep compare`` (see :doc:`user_guide/compare`); they "
        "need matplotlib: ``pip install 'skrelrep[report]'``.",
        [],
    ),
]

# Public names that are not API objects.
SKIP = {"__version__"}


def public_names(module_name):
    """The names a module exports, in ``__all__`` order, without ``SKIP``."""
    module = importlib.import_module(module_name)
    return [name for name in module.__all__ if name not in SKIP]


def _table(names):
    return [
        ".. autosummary::",
        "   :toctree: generated/",
        "   :template: object.rst",
        "   :signatures: none",
        "",
        *(f"   {name}" for name in names),
        "",
    ]


def render():
    """The reStructuredText of the API reference page."""
    lines = [
        ".. Generated by docs/sphinxext/api_reference.py at build time: edit that file.",
        "",
        ".. _api:",
        "",
        "=============",
        "API reference",
        "=============",
        "",
        "Every public class and function, grouped by module. Each page is generated "
        "from the object's docstring.",
        "",
    ]
    for module_name, title, description, groups in SECTIONS:
        heading = f":mod:`{module_name}`: {title}"
        names = public_names(module_name)
        lines += [
            heading,
            "=" * len(heading),
            "",
            f".. automodule:: {module_name}",
            "   :no-members:",
            "   :no-inherited-members:",
            "",
            *([description, ""] if description else []),
            f".. currentmodule:: {module_name}",
            "",
        ]
        grouped = [name for _, members in groups for name in members]
        other = [name for name in names if name not in grouped]
        for group, members in [*groups, ("Other" if groups else None, other)]:
            present = [name for name in members if name in names]
            if not present:
                continue
            if group:
                lines += [group, "-" * len(group), ""]
            lines += _table(present)
    return "\n".join(lines) + "\n"


def write(path):
    """Write the page to ``path`` unless it already holds the same text."""
    text = render()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
