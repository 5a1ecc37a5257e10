"""FutureWarnings for the forms of the metrics' API that are going away."""

from ..utils._warnings import warn

__all__ = ["REMOVED_IN", "deprecated"]

DEPRECATED_IN = "0.1"
REMOVED_IN = "0.3"


def deprecated(old, new):
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warn(
        f"{old} is deprecated since skrelrep {DEPRECATED_IN} and will be removed in "
        f"{REMOVED_IN}: {new}.",
        FutureWarning,
    )
