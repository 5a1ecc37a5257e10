"""Sphinx configuration of the skrelrep documentation.

Builds offline: no intersphinx inventory is fetched, and the theme needs no network.
The gallery runs every example by default; set ``SKRELREP_GALLERY=fast`` to run only
the quick ones (the others render without output), or pass ``-D plot_gallery=0`` to
run none.
"""

import os
import sys
from pathlib import Path

# SciPy reads this once, at import, and conf.py imports it first (through skrelrep): the
# GPU example's array API dispatch needs it on, as the test suite has it.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import skrelrep

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "sphinxext"))

import api_reference  # noqa: E402
import gallery_order  # noqa: E402
import hostile_tables  # noqa: E402

project = "skrelrep"
author = "skrelrep developers"
copyright = "2026, skrelrep developers"
release = skrelrep.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "skrelrep_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"
nitpicky = False

# API reference: one page per public name, generated from the docstrings.
api_reference.write(HERE / "api.rst")
# The tables of hostile inputs, from the test suite's own (tests/test_hostile_*.py).
hostile_tables.write(HERE / "user_guide" / "hostile_tables.rst")
autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Doctests run in the test suite (pytest --doctest-modules), not here.
numpydoc_use_plots = False

# User guide figures: small scripts under user_guide/plots, run at every build.
plot_basedir = str(HERE)
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

# Gallery: the examples are plain scripts with "# %%" cells.
_GALLERY_MODES = {
    "all": r"/plot_.*\.py$",
    "fast": "|".join(
        rf"/{name.removesuffix('.py')}\.py$" for name in gallery_order.FAST
    ),
}
_gallery_mode = os.environ.get("SKRELREP_GALLERY", "all")
if _gallery_mode not in _GALLERY_MODES:
    raise ValueError(
        f"SKRELREP_GALLERY={_gallery_mode!r}; use one of {sorted(_GALLERY_MODES)}."
    )
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _GALLERY_MODES[_gallery_mode],
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skrelrep",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skrelrep": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
    "download_all_examples": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skrelrep {release}"
html_static_path = ["_static"]
html_css_files = ["skrelrep.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # Example pages get the full width: their code lines are up to 88 characters.
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        **{
            f"auto_examples/{script.stem}": []
            for script in (HERE.parent / "examples").glob("plot_*.py")
        },
    },
}
html_sidebars = {"index": [], "install": []}
html_show_sourcelink = True
html_last_updated_fmt = None
