# The two commands of the README. Each installs what it needs first.
# CI (.ci/run) runs `make test`, then the two checks of what users install.
.PHONY: demo test test-oldest test-wheel

demo:  ## the main job: a stitching experiment on shipped data, report in ./skrelrep-report
	bash scripts/install.sh demo
	.venv/bin/skrelrep demo --out skrelrep-report

test:  ## install everything, then lint and run the default test suite
	bash scripts/install.sh all
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	# One BLAS thread per test worker: two workers already use both cores.
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python -m pytest -q -n 2 --durations=15

test-oldest:  ## the core's tests on the oldest supported versions (constraints/oldest.txt), in a fresh environment
	bash .ci/oldest.sh

test-wheel:  ## build the sdist and wheel, check them, run the quick start from the wheel in a fresh environment (after make test)
	bash .ci/wheel.sh
