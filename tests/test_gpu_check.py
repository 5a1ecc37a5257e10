"""benchmarks/gpu_check: its checks run, pass and can fail, on torch CPU tensors.

The script is meant for a CUDA machine; ``--device cpu`` runs the same checks on CPU
tensors, so a machine without a GPU still tests them. The timings need CUDA.
"""

import shutil
import subprocess
from pathlib import Path

import pytest
import sklearn

from benchmarks import gpu_check
from skrelrep import RelativeTransformer

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
# Few features: the half-precision errors are largest there (docs: 4.3e-4 and 3.5e-3
# measured at 16 features), so the bounds are checked where they are tightest.
SHAPE = (600, 16, 40)


def _half_precision(shape=SHAPE):
    report = gpu_check.Report()
    gpu_check.half_precision(report, torch, sklearn, RelativeTransformer, "cpu", shape)
    return report


def test_half_precision_checks_pass_on_cpu():
    report = _half_precision()
    cases = [line for line in report.lines if line.startswith("[")]
    # float16 and bfloat16, dispatch on and off, centred and not: one line each.
    assert len(cases) == 8 and all(line.startswith("[PASS]") for line in cases)
    assert report.failures == []
    dispatched = [line for line in cases if "dispatch on" in line]
    assert all("torch.float32 on cpu" in line for line in dispatched)
    assert all(
        "numpy.ndarray float32" in line for line in cases if line not in dispatched
    )


def test_half_precision_checks_can_fail(monkeypatch):
    monkeypatch.setattr(gpu_check, "HALF_BOUNDS", {"float16": 1e-9, "bfloat16": 1e-9})
    report = _half_precision()
    assert len(report.failures) == 8
    assert all(line.startswith("[FAIL]") for line in report.lines if "dispatch" in line)


def test_cpu_run_passes(capsys):
    """``--device cpu``: every check of the script, small, without timings or files."""
    report = gpu_check.main(["--device", "cpu"])
    assert report.failures == []
    out = capsys.readouterr().out
    assert "## Correctness (cpu tensors vs NumPy on CPU)" in out
    assert "## Half precision" in out and "## Timings" not in out
    assert "checks failed: 0" in out


def test_a_failed_check_fails_the_run(monkeypatch):
    monkeypatch.setattr(gpu_check, "correctness", lambda *args: None)
    monkeypatch.setattr(gpu_check, "HALF_SHAPES", {"cpu": (100, 8, 10)})
    monkeypatch.setattr(gpu_check, "FLOAT32_TOLERANCE", 0.0)
    with pytest.raises(SystemExit, match=r"gpu_check: \d+ check\(s\) failed"):
        gpu_check.main(["--device", "cpu"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_run_without_a_gpu_fails_clearly():
    with pytest.raises(SystemExit, match=r"no CUDA device.*--device cpu"):
        gpu_check.main([])


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU machine")
def test_shell_script_without_a_gpu_fails_clearly():
    result = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--quick"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "gpu_check: no NVIDIA GPU found" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
