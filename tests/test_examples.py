"""Every gallery example runs as a plain Python script and draws its figures.

The docs build of the default run executes only the quick examples (see
``test_docs.py``); this runs all of them, one subprocess each, so that an example
broken by a change to the library fails the suite. Each runs in a scratch folder with
warnings as errors, matplotlib's non-interactive backend and one BLAS thread, as in the
docs build.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))

# Run the script as __main__, then report how many figures it left open.
RUNNER = """
import runpy, sys
import matplotlib.pyplot as plt
runpy.run_path(sys.argv[1], run_name="__main__")
print(f"figures: {len(plt.get_fignums())}")
"""


def test_the_gallery_has_examples():
    assert len(EXAMPLES) >= 10, [path.name for path in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_as_a_script(example, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", RUNNER, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"{example.name} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-6000:]}"
    )
    figures = int(result.stdout.rsplit("figures: ", 1)[-1])
    assert figures >= 1, f"{example.name} drew no figure"
    # An example skips a part for missing data only with a message saying so: the
    # suite runs where everything is installed, so none may skip.
    assert "skipped" not in result.stdout.lower(), result.stdout[-3000:]
