# The two commands of the README. Each installs what it needs first.
.PHONY: demo test lint

demo:  ## the main job: a stitching experiment on shipped data, report in ./skrelrep-report
	bash scripts/install.sh demo
	.venv/bin/skrelrep demo --out skrelrep-report

test:  ## install everything, then lint and run the default test suite
	bash scripts/install.sh all
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	# One BLAS thread per test worker: two workers already use both cores.
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 .venv/bin/python -m pytest -q -n 2 --durations=15
