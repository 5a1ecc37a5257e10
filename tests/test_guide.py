"""The user guide runs as written, and prints what it shows.

Every ``.. code-block:: python`` of a guide page runs, in page order, in one namespace
per page, as a reader's session would: the pages of ``docs/user_guide/``, found by
name, the other pages of ``docs/`` that hold the guide's code, and the README's
``python`` blocks. One test per page. The conventions (see ``docs/developers.rst``):

- ``:class: gpu`` on a Python block: it needs a CUDA GPU and is skipped where torch
  sees none (the outputs after it are then not compared).
- An expected output is a ``.. code-block:: text`` whose caption starts with
  ``Output`` (in the README: a ``text`` code fence after a line that starts with
  ``Output``). It holds what the Python blocks since the previous output printed. Its
  words must match exactly (runs of white space count as one space) and its numbers
  within the tolerance the caption states, ``Output, numbers within ±0.02``; with no
  tolerance stated, exactly as written. A block that prints must be followed by an
  output that shows it.

Pages run in the test process, inside ``sklearn.config_context()`` and in a temporary
folder, so encoders load once per process and nothing leaks into other tests. Pages in
``OWN_PROCESS`` change what a process reads once (environment variables read at
import) and run in a fresh interpreter whose environment lacks those variables.
"""

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user_guide"
# Pages outside docs/user_guide/ that hold the guide's code.
OTHER_PAGES = [
    ROOT / "docs" / "index.rst",
    ROOT / "docs" / "dask.rst",
    ROOT / "README.md",
]

# Pages whose code is being rewritten on other branches: not run until they are
# merged and brought under this test (then remove them from here).
PENDING = {}
# Pages that set what a process reads once, run in a fresh interpreter without:
OWN_PROCESS = {"gpu.rst": ("SCIPY_ARRAY_API",)}

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_TOLERANCE = re.compile(r"±\s*(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


@dataclass
class Block:
    """A Python block to run, or an output to compare, with its line in the page."""

    kind: str  # "python" or "output"
    code: str
    line: int
    gpu: bool = False
    tolerance: float = 0.0


@dataclass
class Result:
    """What running one Python block gave."""

    line: int
    printed: str = ""
    error: str = ""
    skipped: bool = False
    seconds: float = 0.0


@dataclass
class PageRun:
    results: list = field(default_factory=list)


def _tolerance(caption):
    found = _TOLERANCE.search(caption)
    return float(found.group(1)) if found else 0.0


def _rst_blocks(text):
    """The Python blocks and expected outputs of an rst page, in page order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s*)\.\. code-block::\s*(\w+)\s*$", lines[i])
        if not match:
            i += 1
            continue
        indent, language = len(match.group(1)), match.group(2)
        options = {}
        i += 1
        while i < len(lines) and re.match(r"^\s+:(\w+):\s*(.*)$", lines[i]):
            name, value = re.match(r"^\s+:(\w+):\s*(.*)$", lines[i]).groups()
            options[name] = value.strip()
            i += 1
        body = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        start = i - len(body) + 1
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        code = _dedent(body)
        caption = options.get("caption", "")
        if language == "python":
            gpu = "gpu" in options.get("class", "").split()
            blocks.append(Block("python", code, start, gpu=gpu))
        elif language == "text" and caption.startswith("Output"):
            blocks.append(Block("output", code, start, tolerance=_tolerance(caption)))
    return blocks


def _markdown_blocks(text):
    """The ``python`` fences and expected outputs of a Markdown page."""
    blocks = []
    label = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            if lines[i].strip():
                label = lines[i].strip()
            i += 1
            continue
        language = fence.group(1)
        start = i + 2
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        code = "\n".join(body).rstrip() + "\n"
        if language == "python":
            blocks.append(Block("python", code, start))
        elif language == "text" and label.startswith("Output"):
            blocks.append(Block("output", code, start, tolerance=_tolerance(label)))
        label = ""
    return blocks


def _dedent(lines):
    widths = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(widths, default=0)
    return "\n".join(line[cut:] for line in lines).rstrip() + "\n"


def page_blocks(path):
    """The Python blocks and expected outputs of ``path``, in page order."""
    text = Path(path).read_text()
    if str(path).endswith(".md"):
        return _markdown_blocks(text)
    return _rst_blocks(text)


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def run_page(path, blocks=None):
    """Run the Python blocks of ``path`` in one namespace; a :class:`PageRun`.

    Runs in the current process and folder; the caller isolates it. A GPU block is
    skipped where torch sees no CUDA device (the blocks after it must not need it);
    after a block fails, the rest of the page is skipped.
    """
    blocks = page_blocks(path) if blocks is None else blocks
    namespace = {"__name__": "__guide__"}
    run = PageRun()
    stop = False
    has_cuda = None
    for block in blocks:
        if block.kind != "python":
            continue
        result = Result(block.line)
        run.results.append(result)
        if block.gpu and not stop:
            has_cuda = _cuda_available() if has_cuda is None else has_cuda
            result.skipped = not has_cuda
        if stop or result.skipped:
            result.skipped = True
            continue
        # Line numbers of tracebacks are those of the page.
        code = "\n" * (block.line - 1) + block.code
        printed = io.StringIO()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, str(path), "exec"), namespace)
        except Exception as error:  # reported, with the page's line
            # The first frame is this function's: show the page's frames only.
            result.error = "".join(
                traceback.format_exception(
                    type(error), error, error.__traceback__.tb_next
                )
            )
            stop = True
        result.seconds = time.perf_counter() - started
        result.printed = printed.getvalue()
    return run


def compare_output(expected, printed, tolerance):
    """Why ``printed`` does not match ``expected`` (an empty list when it does)."""
    expected_parts = _NUMBER.split(expected)
    printed_parts = _NUMBER.split(printed)
    expected_numbers = _NUMBER.findall(expected)
    printed_numbers = _NUMBER.findall(printed)
    words = [" ".join(part.split()) for part in expected_parts]
    printed_words = [" ".join(part.split()) for part in printed_parts]
    if words != printed_words or len(expected_numbers) != len(printed_numbers):
        return [
            f"the printed text differs:\n--- page\n{expected}--- printed\n{printed}"
        ]
    problems = []
    for written, got in zip(expected_numbers, printed_numbers, strict=True):
        if tolerance == 0:
            if written != got:
                problems.append(f"{got} printed where the page shows {written}")
        elif not math.isclose(float(written), float(got), rel_tol=0, abs_tol=tolerance):
            problems.append(
                f"{got} printed where the page shows {written} (within ±{tolerance:g})"
            )
    return problems


def check_page(path, blocks, run):
    """Everything wrong with a page's run: errors, outputs that drifted."""
    results = iter(run.results)
    problems = []
    printed = []
    for block in blocks:
        if block.kind == "python":
            result = next(results)
            if result.error:
                problems.append(f"block at line {block.line} raised:\n{result.error}")
            printed.append(result)
            continue
        if not printed:
            problems.append(f"output at line {block.line} follows no Python block")
        elif not any(result.skipped or result.error for result in printed):
            text = "".join(result.printed for result in printed)
            for problem in compare_output(block.code, text, block.tolerance):
                problems.append(f"output at line {block.line}: {problem}")
        printed = []
    for result in printed:
        if result.printed and not result.error:
            problems.append(
                f"block at line {result.line} prints, but no output on the page "
                f"shows it:\n{result.printed}"
            )
    return problems


def _pages():
    return sorted(GUIDE.glob("*.rst")) + OTHER_PAGES


def _page_id(path):
    docs = ROOT / "docs"
    return str(path.relative_to(docs)) if path.is_relative_to(docs) else path.name


def _run_in_own_process(path, unset):
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=os.getcwd(),
    )
    marker = "\n@@guide-results@@ "
    if marker not in completed.stdout:
        raise AssertionError(
            f"the page's own process failed ({completed.returncode}):\n"
            f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    payload = json.loads(completed.stdout.rsplit(marker, 1)[1])
    return PageRun([Result(**result) for result in payload])


@pytest.mark.parametrize("path", _pages(), ids=_page_id)
def test_page_runs_as_written(path, tmp_path, monkeypatch):
    if path.name in PENDING:
        pytest.skip(f"{path.name}: {PENDING[path.name]}")
    blocks = page_blocks(path)
    if not any(block.kind == "python" for block in blocks):
        assert not blocks, f"{path.name} shows outputs but runs no Python"
        return
    import sklearn

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if path.name in OWN_PROCESS:
        run = _run_in_own_process(path, OWN_PROCESS[path.name])
    else:
        with sklearn.config_context(), warnings.catch_warnings():
            run = run_page(path, blocks)
    problems = check_page(path, blocks, run)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    skipped = [str(result.line) for result in run.results if result.skipped]
    if skipped:
        pytest.skip(
            f"{path.name}: the GPU blocks at lines {', '.join(skipped)} need CUDA"
        )


def test_readme_quick_start_shows_stitching_that_works():
    """The quick start's output says stitching works; its page test checks the run."""
    blocks = page_blocks(ROOT / "README.md")
    outputs = [block for block in blocks if block.kind == "output"]
    shown = re.search(r"stitched (\d\.\d+), no training", outputs[0].code)
    assert shown and float(shown.group(1)) > 0.85
    assert outputs[0].tolerance <= 0.02


def test_readme_demo_figures_are_the_demos():
    """The README quotes what ``skrelrep demo`` (seed 0) prints, within its ±."""
    from skrelrep.experiments import EXPERIMENTS

    readme = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(
        r"\((\d\.\d+) stitched, (\d\.\d+) same model\), while absolute codes fall "
        r"to chance \((\d\.\d+) stitched, chance (\d\.\d+)\)\. The test suite checks "
        r"these figures against the demo's own run, to ±(\d\.\d+)\.",
        readme,
    )
    assert quoted, "the README's sentence with the demo's figures has changed"
    stitched, same, absolute, chance, tolerance = map(float, quoted.groups())
    spec = EXPERIMENTS["demo"]
    with warnings.catch_warnings():
        # As in the command line: encoders stopped early by design.
        warnings.filterwarnings("ignore", message=".*converge", category=Warning)
        result = spec.run(spec.full, random_state=0, show_progress=False)
    summary = result.tables["summary"].set_index("space")
    measured = {
        "relative stitched": summary.loc["relative", "stitched"],
        "relative same model": summary.loc["relative", "same model"],
        "absolute stitched": summary.loc["absolute", "stitched"],
    }
    quotes = {
        "relative stitched": stitched,
        "relative same model": same,
        "absolute stitched": absolute,
        "chance": chance,
    }
    (measured["chance"],) = {
        float(found)
        for finding in result.findings
        for found in re.findall(r"chance (\d\.\d+)", finding.evidence)
    }
    for name, value in measured.items():
        assert abs(value - quotes[name]) <= tolerance, (name, value, quotes[name])


# The harness itself: it must be able to fail.

_PAGE = """\
Title
=====

.. code-block:: python

    value = 0.9137
    print(f"stitched {{value:.3f}}, {{3}} pairs")

.. code-block:: text
   :caption: Output, numbers within ±0.01

    stitched {shown}, 3 pairs
"""


def _check(tmp_path, text, name="page.rst"):
    page = tmp_path / name
    page.write_text(text)
    blocks = page_blocks(page)
    return check_page(page, blocks, run_page(page, blocks))


def test_an_output_within_its_tolerance_passes(tmp_path):
    assert _check(tmp_path, _PAGE.format(shown="0.91")) == []
    assert _check(tmp_path, _PAGE.format(shown="0.920")) == []


def test_a_number_beyond_its_tolerance_fails(tmp_path):
    (problem,) = _check(tmp_path, _PAGE.format(shown="0.95"))
    assert "0.914 printed where the page shows 0.95 (within ±0.01)" in problem
    assert "output at line 12" in problem


def test_without_a_stated_tolerance_numbers_match_as_written(tmp_path):
    page = _PAGE.replace(", numbers within ±0.01", "")
    assert _check(tmp_path, page.format(shown="0.914")) == []
    (problem,) = _check(tmp_path, page.format(shown="0.91"))
    assert "0.914 printed where the page shows 0.91" in problem


def test_words_must_match(tmp_path):
    (problem,) = _check(tmp_path, _PAGE.format(shown="0.914").replace(" pairs\n", "\n"))
    assert "the printed text differs" in problem


def test_an_error_names_the_page_line(tmp_path):
    page = "T\n=\n\n.. code-block:: python\n\n    x = 1\n    1 / 0\n"
    (problem,) = _check(tmp_path, page)
    assert "block at line 6 raised" in problem and "ZeroDivisionError" in problem
    assert 'page.rst", line 7' in problem


def test_blocks_share_one_namespace_in_page_order(tmp_path):
    page = (
        "T\n=\n\n.. code-block:: python\n\n    x = 2\n\n"
        ".. code-block:: python\n\n    print(x * 3)\n\n"
        ".. code-block:: text\n   :caption: Output\n\n    6\n"
    )
    assert _check(tmp_path, page) == []


def test_printing_without_showing_it_fails(tmp_path):
    page = "T\n=\n\n.. code-block:: python\n\n    print('hidden')\n"
    (problem,) = _check(tmp_path, page)
    assert "no output on the page shows it" in problem


def test_gpu_blocks_are_skipped_without_cuda(tmp_path, monkeypatch):
    page = (
        "T\n=\n\n.. code-block:: python\n   :class: gpu\n\n"
        "    print('on the GPU')\n    raise RuntimeError\n\n"
        ".. code-block:: text\n   :caption: Output\n\n    not compared without CUDA\n\n"
        ".. code-block:: python\n\n    print('later')\n\n"
        ".. code-block:: text\n   :caption: Output\n\n    later\n"
    )
    monkeypatch.setitem(globals(), "_cuda_available", lambda: False)
    path = tmp_path / "gpu.rst"
    path.write_text(page)
    blocks = page_blocks(path)
    assert [block.gpu for block in blocks if block.kind == "python"] == [True, False]
    run = run_page(path, blocks)
    assert [result.skipped for result in run.results] == [True, False]
    assert run.results[1].printed == "later\n"
    assert check_page(path, blocks, run) == []
    monkeypatch.setitem(globals(), "_cuda_available", lambda: True)
    run = run_page(path, blocks)
    assert [result.skipped for result in run.results] == [False, True]
    (problem,) = check_page(path, blocks, run)
    assert "RuntimeError" in problem


def test_markdown_blocks_and_outputs(tmp_path):
    page = (
        "# T\n\n```python\nprint(round(2 / 3, 3))\n```\n\n"
        "Output, numbers within ±0.01:\n\n```text\n0.67\n```\n\n"
        "```bash\nmake demo\n```\n"
    )
    assert _check(tmp_path, page, "README.md") == []
    (problem,) = _check(tmp_path, page.replace("0.67", "0.7"), "README.md")
    assert "0.667 printed where the page shows 0.7 (within ±0.01)" in problem


def test_every_page_is_found():
    names = [path.name for path in _pages()]
    assert {"relative.rst", "gpu.rst", "README.md"} <= set(names)
    assert set(PENDING) <= set(names), "a pending page no longer exists"


if __name__ == "__main__":
    # A page of OWN_PROCESS: run it here, report the results on the last line.
    warnings.simplefilter("error")
    for module in ("torch", "dask", "distributed", "skorch"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
    page_run = run_page(Path(sys.argv[1]))
    print("\n@@guide-results@@ " + json.dumps([asdict(r) for r in page_run.results]))
