"""FAISS index files, read back as the vectors they hold.

A FAISS index that stores its vectors as they were added gives them back
(``reconstruct_n``): a flat index (``IndexFlat``, ``IndexFlatL2``, ``IndexFlatIP``),
an HNSW or NSG graph over flat storage, and an inverted-file index of full vectors
(``IndexIVFFlat``), each possibly inside an ``IndexIDMap``. An index that stores
compressed codes (product or scalar quantisation, LSH, ...) keeps only an
approximation of each vector: reading it as the vectors would give plausible wrong
numbers, so it is refused with a message that says how to export the vectors.

``faiss`` (``pip install "skrelrep[migrate]"``) is imported only when a FAISS file is
read. The file is parsed by FAISS's own reader, which builds C++ index structures
from data and never runs Python code.
"""

from ._file_contents import Contents, Unreadable

__all__ = ["FAISS_SUFFIXES", "read_faiss"]

FAISS_SUFFIXES = (".faiss", ".index")
# Index classes whose stored vectors are the vectors added, bit for bit.
_LOSSLESS = {
    "IndexFlat",
    "IndexFlatL2",
    "IndexFlatIP",
    "IndexHNSWFlat",
    "IndexNSGFlat",
    "IndexIVFFlat",
}
_EXPORT = (
    "save the vectors the index was built from with numpy.save('vectors.npy', "
    "vectors) and pass that file instead"
)


def read_faiss(path, selector, *, labels):
    """The vectors stored in a FAISS index file (rows in the index's order)."""
    if labels:
        raise Unreadable("is a FAISS index, which holds vectors, not labels")
    try:
        import faiss
    except ImportError:
        raise Unreadable(
            'reading a FAISS index needs faiss: pip install "skrelrep[migrate]"'
        ) from None
    with open(path, "rb"):  # a missing or unreadable file: the OSError's reason
        pass
    # The index read is kept referenced: a downcast view does not own it.
    try:
        stored = faiss.read_index(str(path))
    except RuntimeError as error:  # FAISS's reason follows its source location
        reason = str(error).strip().splitlines()[0].rsplit(": ", 1)[-1]
        raise Unreadable(f"is not an index FAISS can read ({reason})") from None
    index = faiss.downcast_index(stored)
    notes = []
    if type(index).__name__.startswith("IndexIDMap"):
        outer = index  # owns the inner index  # noqa: F841
        notes.append("row i is the i-th vector added; the index's own ids are not kept")
        index = faiss.downcast_index(index.index)
    kind = type(index).__name__
    if kind not in _LOSSLESS:
        raise Unreadable(
            f"is a FAISS {kind}, which stores compressed codes or cannot give back "
            f"the vectors it was built from; {_EXPORT}"
        )
    if index.ntotal < 1:
        raise Unreadable("is an empty FAISS index (no vectors added)")
    if kind == "IndexIVFFlat":
        index.make_direct_map()
    notes.append(f"a FAISS {kind}")
    vectors = index.reconstruct_n(0, index.ntotal)
    del stored
    return Contents(vectors, notes=notes)
