#!/usr/bin/env bash
# What users install is what was tested: build the sdist and, from it, the wheel;
# check them (no build warning, twine's metadata check, no tests in the wheel);
# install the wheel into a fresh environment and run the README's quick start there,
# outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${TOOLS_PYTHON:-.venv/bin/python}"  # has build and twine (the test extra)
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
SECONDS=0

# setuptools skips byte-compiling, with a warning, when this is set.
if ! env -u PYTHONDONTWRITEBYTECODE "$tools" -m build --outdir "$work/dist" . \
    >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    exit 1
fi
if grep -i "warn" "$work/build.log" | grep -v "_warnings\.py"; then
    echo "python -m build warned (above); see the full log:" >&2
    cat "$work/build.log" >&2
    exit 1
fi
"$tools" -m twine check --strict "$work"/dist/*
wheel=("$work"/dist/*.whl)
"$tools" - "${wheel[0]}" <<'PY'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
stray = [n for n in names if not n.startswith(("skrelrep/", "skrelrep-"))]
assert not stray, f"the wheel carries more than the package: {stray}"
assert "skrelrep/__init__.py" in names
print(f"wheel: {len(names)} files, the package and its metadata only")
PY
echo "built and checked in ${SECONDS} s"

"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "${wheel[0]}"
echo "installed into a fresh environment at ${SECONDS} s"
readme="$PWD/README.md"
cd "$work"  # away from the checkout: only the installed package can be imported
"$work/venv/bin/skrelrep" --help >/dev/null  # the command's entry point
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    "$work/venv/bin/python" - "$readme" <<'PY'
import contextlib
import io
import re
import sys
from pathlib import Path

import skrelrep

assert "site-packages" in skrelrep.__file__, skrelrep.__file__
readme = Path(sys.argv[1]).read_text(encoding="utf-8")
(code,) = re.findall(r"## Quick start\n\n```python\n(.*?)```", readme, flags=re.S)
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    exec(compile(code, "README.md", "exec"), {})
# "stitched 0.91, no training; model 0 itself 0.92"
stitched, own = map(float, re.findall(r"\d\.\d+", printed.getvalue()))
assert stitched > 0.85 and own - stitched < 0.05, printed.getvalue()
score = stitched
print(f"quick start from the wheel ({skrelrep.__version__}): stitched accuracy {score:.3f}")
PY
