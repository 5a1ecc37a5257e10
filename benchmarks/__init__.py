"""Performance harness for skrelrep (not part of the test suite).

Run ``python -m benchmarks.run --quick`` from the repository root; see README.md.
"""
