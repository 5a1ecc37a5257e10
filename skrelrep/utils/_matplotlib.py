"""matplotlib, imported only when a figure is drawn (it comes with the "report" extra)."""

__all__ = ["pyplot"]


def pyplot():
    """``matplotlib.pyplot`` on a non-interactive backend, or a clear ImportError."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "Figures need matplotlib: pip install 'skrelrep[report]'."
        ) from exc
    # Agg unless a backend was chosen: figures are saved, never shown, by default.
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
