"""The packaging metadata says what CI tests: lower bounds, extras, licence.

CI builds the wheel and runs the quick start from it (``make test-wheel``) and runs the
core's tests on the oldest supported versions (``make test-oldest``); these checks keep
the files those jobs read in agreement with ``pyproject.toml``.
"""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = PROJECT["project"]["optional-dependencies"]
OLDEST = ROOT / "constraints" / "oldest.txt"


def _pins():
    pins = {}
    for line in OLDEST.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _lower_bound(requirement):
    (bound,) = [s.version for s in requirement.specifier if s.operator == ">="]
    return bound


def _requirements(*groups):
    for group in groups:
        for line in group:
            yield Requirement(line)


def test_the_oldest_pins_are_the_declared_lower_bounds():
    pins = _pins()
    declared = {}
    for requirement in _requirements(
        PROJECT["project"]["dependencies"], *EXTRAS.values()
    ):
        name = canonicalize_name(requirement.name)
        if name in pins and name != "skrelrep":
            declared.setdefault(name, set()).add(_lower_bound(requirement))
    # dask[distributed] brings distributed at dask's own version.
    declared[canonicalize_name("distributed")] = declared[canonicalize_name("dask")]
    for name, version in pins.items():
        # A bound such as 2.0 is the release 2.0.0.
        assert {re.sub(r"(\.0)+$", "", v) for v in declared.get(name, ())} == {
            re.sub(r"(\.0)+$", "", version)
        }, f"{name}: pinned {version}, declared >= {sorted(declared.get(name, ()))}"


def test_every_core_dependency_is_pinned_at_its_bound():
    pins = _pins()
    for requirement in _requirements(PROJECT["project"]["dependencies"]):
        assert canonicalize_name(requirement.name) in pins, requirement.name
        assert _lower_bound(requirement), requirement


def test_all_brings_every_extra_but_the_tools():
    (everything,) = EXTRAS["all"]
    named = set(Requirement(everything).extras)
    assert named == set(EXTRAS) - {"all", "docs", "test"}


def test_persist_and_migrate_bring_skops():
    for extra in ("persist", "migrate"):
        names = {canonicalize_name(r.name) for r in _requirements(EXTRAS[extra])}
        assert "skops" in names, extra
    assert "faiss-cpu" in {r.name for r in _requirements(EXTRAS["migrate"])}


def test_the_licence_is_an_spdx_expression_with_its_file():
    project = PROJECT["project"]
    assert project["license"] == "BSD-3-Clause"
    for name in project["license-files"]:
        assert (ROOT / name).is_file(), name
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    # setuptools reads an SPDX string from 77 on; older ones reject it.
    backend = [Requirement(r) for r in PROJECT["build-system"]["requires"]]
    (setuptools,) = [r for r in backend if r.name == "setuptools"]
    assert setuptools.specifier.contains("77") and not setuptools.specifier.contains(
        "76.1"
    )


def test_only_the_package_goes_into_the_wheel():
    include = PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert include == ["skrelrep*"]


def test_ci_runs_the_three_jobs():
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("test", "test-oldest", "test-wheel"):
        assert f"make {target}\n" in run, target
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
