"""The documentation builds offline, warnings as errors, and covers the public API.

Each build runs on a copy of ``docs/`` and ``examples/`` in a temporary folder, so the
generated files (API pages, gallery) never land in the source tree. The default run
builds with the gallery in its fast mode (only the quick examples execute); the full
build, every example executed, is marked ``slow``.
"""

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra is not installed")

ROOT = Path(__file__).resolve().parents[1]
# Every public name of these modules must have an API page.
API_MODULES = [
    "skrelrep",
    "skrelrep.similarity",
    "skrelrep.metrics",
    "skrelrep.datasets",
    "skrelrep.neural",
    "skrelrep.encoders",
    "skrelrep.experiments",
    "skrelrep.report",
    "skrelrep.plotting",
]
NOT_API = {"__version__"}
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))


def _build(tmp_path, gallery):
    """Build the HTML docs from a copy of the sources; return the output folder."""
    generated = ("_build", "generated", "auto_examples", "gen_modules", "api.rst")
    shutil.copytree(
        ROOT / "docs",
        tmp_path / "docs",
        ignore=shutil.ignore_patterns(*generated, "sg_execution_times.rst"),
    )
    shutil.copytree(
        ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = tmp_path / "html"
    env = {
        **os.environ,
        "SKRELREP_GALLERY": gallery,
        "MPLBACKEND": "Agg",
        # The examples fit small models: one BLAS thread avoids oversubscription.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-d",
        str(tmp_path / "doctrees"),
        str(tmp_path / "docs"),
        str(out),
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, (
        f"sphinx-build failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-6000:]}"
    )
    return out


@pytest.fixture(scope="module")
def fast_site(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("docs_fast"), gallery="fast")


def _public_names():
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name not in NOT_API:
                yield module_name, name


def _executed(site, example):
    """Whether the example's page shows at least one figure it produced."""
    page = (site / "auto_examples" / f"{example}.html").read_text()
    image = f"sphx_glr_{example}_001.png"
    return image in page and (site / "_images" / image).is_file()


def test_every_public_name_has_an_api_page(fast_site):
    index = (fast_site / "api.html").read_text()
    missing = []
    for module_name, name in _public_names():
        qualified = f"{module_name}.{name}"
        page = fast_site / "generated" / f"{qualified}.html"
        if not page.is_file() or f'id="{qualified}"' not in page.read_text():
            missing.append(qualified)
        elif f'href="generated/{qualified}.html' not in index:
            missing.append(f"{qualified} (not linked from api.html)")
    assert not missing, f"public names without an API page: {missing}"


def test_the_hostile_inputs_page_shows_every_tested_case(fast_site):
    import html

    sys.path.insert(0, str(ROOT / "docs" / "sphinxext"))
    try:
        import hostile_tables
    finally:
        sys.path.pop(0)
    page = (fast_site / "user_guide" / "hostile.html").read_text()
    words = re.sub(r"\W+", "", html.unescape(re.sub(r"<[^>]+>", "", page)))
    modules = sorted((ROOT / "tests").rglob("test_hostile_*.py"))
    assert len(modules) >= 5
    for module in modules:
        for case_id, hostile, expected in hostile_tables.cases(module):
            for cell in (hostile, expected):
                assert re.sub(r"\W+", "", cell) in words, (module.name, case_id)


def test_api_pages_render_numpydoc_sections(fast_site):
    page = (fast_site / "generated" / "skrelrep.RelativeTransformer.html").read_text()
    for section in ("Parameters", "Attributes", "Examples", "See also", "References"):
        assert f">{section}<" in page, section
    # Attribute names in types are literals, not broken reStructuredText links.
    assert "n_anchors_" in page and "problematic" not in page
    # The :ref:`User Guide <relative_transformer>` of the docstring resolves.
    assert 'href="../user_guide/relative.html#relative-transformer"' in page
    stitched = (fast_site / "generated" / "skrelrep.StitchedPipeline.html").read_text()
    assert 'href="../user_guide/stitching.html#stitching"' in stitched


def test_gallery_has_a_thumbnail_per_example(fast_site):
    index = (fast_site / "auto_examples" / "index.html").read_text()
    thumbnails = set(re.findall(r"sphx_glr_(\w+?)_thumb\.png", index))
    assert set(EXAMPLES) <= thumbnails, set(EXAMPLES) - thumbnails
    for example in EXAMPLES:
        assert (fast_site / "_images" / f"sphx_glr_{example}_thumb.png").is_file()
        assert (fast_site / "auto_examples" / f"{example}.html").is_file()


def test_fast_gallery_executes_the_quick_examples(fast_site):
    sys.path.insert(0, str(ROOT / "docs" / "sphinxext"))
    try:
        gallery_order = importlib.import_module("gallery_order")
    finally:
        sys.path.pop(0)
    fast = [name.removesuffix(".py") for name in gallery_order.FAST]
    assert fast and set(fast) <= set(EXAMPLES)
    for example in EXAMPLES:
        assert _executed(fast_site, example) == (example in fast), example


def test_user_guide_figures_are_generated_at_build_time(fast_site):
    for page, figure in [
        ("index.html", "rotated_spaces"),
        ("user_guide/relative.html", "rotated_spaces"),
        ("user_guide/limits.html", "limits"),
        ("user_guide/anchors.html", "crowding"),
    ]:
        html = (fast_site / page).read_text()
        images = re.findall(rf'src="([^"]*{figure}[^"]*\.png)"', html)
        assert images, (page, figure)
        assert (fast_site / page).parent.joinpath(images[0]).resolve().is_file()


@pytest.mark.slow
def test_full_build_executes_every_example(tmp_path):
    site = _build(tmp_path, gallery="all")
    not_run = [example for example in EXAMPLES if not _executed(site, example)]
    assert not not_run, f"examples that made no figure: {not_run}"


def test_the_rotated_spaces_figure_shows_the_curve_its_text_describes():
    """Two anchors, two spaces: the relative points coincide and fill a curve, not a
    line (centred on two anchors, the columns would be exact opposites)."""
    import runpy

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    script = ROOT / "docs" / "user_guide" / "plots" / "rotated_spaces.py"
    try:
        figure = runpy.run_path(str(script))
    finally:
        plt.close("all")
    rel_a, rel_b = figure["rel_a"], figure["rel_b"]
    assert abs(rel_a - rel_b).max() < 1e-12
    assert abs(rel_a[:, 0] + rel_a[:, 1]).max() > 0.1  # not r2 = -r1
