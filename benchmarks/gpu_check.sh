#!/usr/bin/env bash
# GPU check for skrelrep, one short script, meant to take under two minutes on one GPU
# (it has not yet run on one): the projection of CUDA tensors against NumPy on CPU
# (output left on the device), float16 and bfloat16 tensors against the documented
# half-precision bounds, with and without array API dispatch, and the speed against
# torch.mm on pre-normalised inputs. Run from anywhere:
#
#     bash benchmarks/gpu_check.sh               # all shapes
#     bash benchmarks/gpu_check.sh --quick       # timings without (1M,128,256)
#     bash benchmarks/gpu_check.sh --device cpu  # the checks on CPU tensors, small
#
# Fails (exit 1) when there is no GPU, no CUDA torch, or any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

want_cuda=1
case " $* " in *" --device cpu "* | *" --device=cpu "*) want_cuda=0 ;; esac
if [ "$want_cuda" = 1 ] \
    && { ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L; }; then
    echo "gpu_check: no NVIDIA GPU found (nvidia-smi missing or failing);" \
        "--device cpu runs the checks on the CPU." >&2
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
