#!/usr/bin/env bash
# GPU check for skrelrep: correctness of the projection on CUDA tensors (vs NumPy on
# CPU, output left on the device) and its speed against torch.mm on pre-normalised
# inputs. A few minutes on one GPU. Run from anywhere:
#
#     bash benchmarks/gpu_check.sh          # all shapes
#     bash benchmarks/gpu_check.sh --quick  # without the (1M,128,256) shape
#
# Fails (exit 1) when there is no GPU, no CUDA torch, or any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L; then
    echo "gpu_check: no NVIDIA GPU found (nvidia-smi missing or failing)." >&2
    exit 1
fi
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    for candidate in .venv/bin/python python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c "import torch, sklearn" >/dev/null 2>&1; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [ -z "$PYTHON" ]; then
    echo "gpu_check: no Python with torch and scikit-learn found (set PYTHON=...)." >&2
    exit 1
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "$PYTHON" -m benchmarks.gpu_check "$@"
