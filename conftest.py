"""Test configuration shared by tests/ and the doctests in skrelrep/."""

import os

# SciPy reads this once, at import: it must be set before anything imports scipy so
# that array-api-strict inputs are supported (scikit-learn's array API checks need it).
os.environ.setdefault("SCIPY_ARRAY_API", "1")
