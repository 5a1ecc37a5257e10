#!/usr/bin/env bash
# The core's tests on the oldest supported versions (constraints/oldest.txt, the
# lower bounds of pyproject.toml), in a fresh environment of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT

SECONDS=0
"$python" -m venv "$venv"
"$venv/bin/pip" install -q -c constraints/oldest.txt \
    -e ".[test,dask,persist]" matplotlib tqdm
# A pin on a name that nothing requires is silently unused: check each one took.
"$venv/bin/python" - <<'PY'
import importlib.metadata
from pathlib import Path

pins = [
    line.split("==")
    for line in Path("constraints/oldest.txt").read_text().splitlines()
    if "==" in line and not line.startswith("#")
]
wrong = {
    name: (version, importlib.metadata.version(name))
    for name, version in pins
    if importlib.metadata.version(name) != version
}
assert not wrong, f"installed versions differ from the pins: {wrong}"
print("oldest versions:", ", ".join(f"{n} {v}" for n, v in pins))
PY
echo "installed in ${SECONDS} s"

# The folders and modules that need only the core and those extras; doctests too.
# dask 2024.1 warns when a test sets a local scheduler while another test's
# distributed client is still open; the result is the same.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    "$venv/bin/python" -m pytest -q -n 2 -p no:cacheprovider \
    -W "ignore:Running on a single-machine scheduler:UserWarning" \
    tests/anchors tests/metrics tests/relative tests/similarity tests/stitching \
    tests/translation tests/utils \
    tests/test_common.py tests/test_layout.py tests/test_persistence.py \
    tests/test_packaging.py tests/test_readme.py \
    skrelrep/anchors skrelrep/metrics skrelrep/relative skrelrep/similarity \
    skrelrep/stitching skrelrep/utils skrelrep/_translation.py \
    skrelrep/_mlp_encoder.py
