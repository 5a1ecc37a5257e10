"""The README stays true: its commands exist.

Its Python blocks run in ``tests/test_guide.py``, which checks the figures they print
against the ones the README shows.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_two_commands_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make demo" in readme and "make test" in readme
    assert re.search(r"^demo:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
