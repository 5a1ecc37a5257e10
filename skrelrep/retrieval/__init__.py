"""Retrieval across models: search an old model's index with a new model's queries.

:class:`QueryBridge` maps a new embedding model's queries into the space of an index
built with an old model, learnt from parallel anchors and unpaired queries, and
searches the index with a hubness correction; its ``forecast_`` predicts, before
switching, how much of re-embedding's retrieval the bridge keeps.
"""

from ._bridge import QueryBridge
from ._faiss import faiss_index, search_faiss
from ._persistence import load_bridge

__all__ = ["QueryBridge", "faiss_index", "load_bridge", "search_faiss"]
