"""Forecast: the fraction of re-embedding's Recall@10 a bridge will keep."""

__all__ = ["forecast"]


def forecast(plan, *, n_index, has_queries):
    value = plan.cv_score
    return {
        "recall@10": float(value),
        "interval": (float(value) - 0.1, float(value) + 0.1),
    }
