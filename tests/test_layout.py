"""The package's shape: one-way imports, small modules, private names kept in one place.

The import graph comes from ``scripts/import_graph.py``, which reads every import
statement of the package, function-level ones included.
"""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skrelrep"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "import_graph", ROOT / "scripts" / "import_graph.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_graph = _load_script()


@pytest.fixture(scope="module")
def edges():
    return import_graph.graph()


def test_no_import_cycle(edges):
    assert import_graph.cycles(edges) == []


def test_imports_point_down_the_layers(edges):
    assert import_graph.breaches(edges) == []
    # The bottom layer imports nothing else of the package.
    for module, targets in edges.items():
        if module.startswith("skrelrep.utils"):
            assert all(t.startswith("skrelrep.utils") for t in targets), module


def test_cycle_and_breach_detection_can_fail():
    # A fabricated graph with a hidden cycle and upward imports is caught.
    fake = {
        "skrelrep.relative._transformer": {"skrelrep.utils._dask"},
        "skrelrep.utils._dask": {"skrelrep.relative._transformer"},
        "skrelrep.utils._norms": {"skrelrep.neural._base"},
        "skrelrep.neural._base": set(),
        # Inside the core: similarity below relative below metrics below retrieval.
        "skrelrep.similarity._base": {"skrelrep.relative._input_space"},
        "skrelrep.relative._input_space": {"skrelrep.metrics._cka"},
        "skrelrep.stitching._stitch": {"skrelrep.metrics._cka"},
        "skrelrep.metrics._cka": {"skrelrep.retrieval._bridge"},
        "skrelrep.retrieval._bridge": {"skrelrep.metrics._retrieval"},
    }
    assert import_graph.cycles(fake) == [
        ["skrelrep.relative._transformer", "skrelrep.utils._dask"]
    ]
    breaches = {(a, b) for a, b, _ in import_graph.breaches(fake)}
    assert breaches == {
        ("skrelrep.utils._dask", "skrelrep.relative._transformer"),
        ("skrelrep.utils._norms", "skrelrep.neural._base"),
        ("skrelrep.similarity._base", "skrelrep.relative._input_space"),
        ("skrelrep.relative._input_space", "skrelrep.metrics._cka"),
        ("skrelrep.stitching._stitch", "skrelrep.metrics._cka"),
        ("skrelrep.metrics._cka", "skrelrep.retrieval._bridge"),
    }


def test_function_level_imports_are_in_the_graph(tmp_path, monkeypatch):
    package = tmp_path / "skrelrep"
    (package / "utils").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "utils" / "__init__.py").write_text("")
    (package / "_relative.py").write_text("def f():\n    from .utils import _x\n")
    (package / "utils" / "_x.py").write_text("def g():\n    from .. import _relative\n")
    monkeypatch.setattr(import_graph, "ROOT", package)
    edges = import_graph.graph()
    assert edges["skrelrep._relative"] == {"skrelrep.utils._x"}
    assert import_graph.cycles(edges) == [["skrelrep._relative", "skrelrep.utils._x"]]


def test_no_module_is_too_long():
    sizes = import_graph.sizes()
    too_long = {name: n for name, n in sizes.items() if n > import_graph.MAX_LINES}
    assert not too_long


def test_the_script_runs_and_checks():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "import_graph.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Cycles: 0" in result.stdout


def _private_sklearn_imports(path):
    """``(module, name)`` of every import of a private scikit-learn name in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn"
        ):
            private_module = any(
                part.startswith("_") for part in node.module.split(".")
            )
            for alias in node.names:
                if private_module or alias.name.startswith("_"):
                    found.append((node.module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn") and any(
                    part.startswith("_") for part in alias.name.split(".")
                ):
                    found.append((alias.name, None))
    return found


def test_private_scikit_learn_names_only_in_compat():
    compat = PACKAGE / "utils" / "_compat.py"
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in PACKAGE.rglob("*.py")
        if path != compat and (names := _private_sklearn_imports(path))
    }
    assert not offenders
    assert _private_sklearn_imports(compat)  # the check sees such imports at all


def test_no_test_configuration_inside_the_package():
    assert not list(PACKAGE.rglob("conftest.py"))


OPTIONAL = ("torch", "skorch", "dask", "distributed", "dask_ml", "tqdm", "matplotlib")


def test_the_core_imports_no_optional_dependency():
    code = (
        "import sys; import skrelrep, skrelrep.metrics, skrelrep.similarity, "
        "skrelrep.anchors, skrelrep.stitching, skrelrep.encoders, skrelrep.datasets; "
        f"print([m for m in {OPTIONAL!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
