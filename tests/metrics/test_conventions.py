"""One calling convention: keyword-only options, named results, deprecated old forms."""

import numpy as np
import pandas as pd
import pytest

from skrelrep.metrics import (
    MigrationScores,
    RetrievalAgreement,
    RetrievalScores,
    jaccard_at_k,
    migration_scores,
    mutual_knn,
    neighbourhood_jaccard,
    retrieval_agreement,
    retrieval_scores,
)


def _related(n=80, width=6, seed=0):
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(n, width))
    return A, A + 0.5 * rng.normal(size=A.shape)


@pytest.mark.parametrize(
    "measure", [mutual_knn, neighbourhood_jaccard, retrieval_agreement]
)
def test_k_is_keyword_only(measure):
    A, B = _related()
    with pytest.raises(TypeError, match="positional argument"):
        measure(A, B, 5)
    with pytest.raises(TypeError, match="positional argument"):
        retrieval_scores(A, B, (1, 5))


def test_jaccard_at_k_is_deprecated_for_neighbourhood_jaccard():
    A, B = _related()
    expected = neighbourhood_jaccard(A, B, k=5)
    with pytest.warns(FutureWarning, match=r"jaccard_at_k is deprecated.*0\.3") as seen:
        assert jaccard_at_k(A, B, 5) == expected  # the old positional k still works
    assert seen[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(FutureWarning, match="neighbourhood_jaccard"):
        assert jaccard_at_k(A, B, k=5, batch_size=7) == expected


def test_retrieval_agreement_is_named_and_still_unpacks_with_a_warning():
    A, B = _related()
    agreement = retrieval_agreement(A, B, k=5)
    assert isinstance(agreement, RetrievalAgreement)
    assert agreement.k == 5
    assert 0 < agreement.jaccard < 1 and 0 < agreement.mrr <= 1
    assert agreement.as_dict() == {
        "retrieval_jaccard@5": agreement.jaccard,
        "retrieval_mrr@5": agreement.mrr,
    }
    assert retrieval_agreement(A, B, k=5, batch_size=3) == agreement
    with pytest.warns(FutureWarning, match=r"\.jaccard and \.mrr"):
        jaccard, mrr = agreement
    assert (jaccard, mrr) == (agreement.jaccard, agreement.mrr)
    with pytest.warns(FutureWarning):
        assert agreement[1] == agreement.mrr
    with pytest.warns(FutureWarning):
        assert agreement == (agreement.jaccard, agreement.mrr)


def test_retrieval_scores_are_named_and_still_read_as_a_dict_with_a_warning():
    A, B = _related()
    scores = retrieval_scores(A, B, ks=(1, 5))
    assert isinstance(scores, RetrievalScores)
    assert list(scores.recall) == [1, 5] and scores.k == 5
    assert scores.as_dict() == {
        "recall@1": scores.recall[1],
        "recall@5": scores.recall[5],
        "mrr@5": scores.mrr,
    }
    assert retrieval_scores(A, B, ks=(5, 1, 5), batch_size=4) == scores
    with pytest.warns(FutureWarning, match=r"as_dict\(\)"):
        assert scores["recall@5"] == scores.recall[5]
    with pytest.warns(FutureWarning):
        assert list(scores) == ["recall@1", "recall@5", "mrr@5"]
    with pytest.warns(FutureWarning):
        assert dict(scores.items()) == scores.as_dict()
    with pytest.warns(FutureWarning):
        assert scores == scores.as_dict()


def test_targets_name_each_querys_answer():
    rng = np.random.RandomState(0)
    index = rng.normal(size=(120, 8))
    queries = index[:60] + 0.7 * rng.normal(size=(60, 8))
    expected = retrieval_scores(queries, index, ks=(1, 10))
    # The same index with its rows shuffled: the targets follow the answers.
    order = rng.permutation(120)
    targets = np.argsort(order)[:60]  # where row i of the old index went
    moved = retrieval_scores(queries, index[order], targets=targets, ks=(1, 10))
    assert moved.as_dict() == pytest.approx(expected.as_dict())
    # Answers need not be distinct, nor the index longer than the queries.
    few = retrieval_scores(queries, index[:3], targets=np.zeros(60, int), ks=(1,))
    assert 0 <= few.recall[1] <= 1
    for bad, message in [
        (np.arange(59), "one index row per query"),
        (np.arange(60) + 100, "must be rows of the index, 0 to 119"),
        (np.arange(60) * 1.0, "integer row numbers"),
    ]:
        with pytest.raises(ValueError, match=message):
            retrieval_scores(queries, index, targets=bad)
    with pytest.raises(ValueError, match="Pass targets="):
        retrieval_scores(index, queries)


def test_migration_scores_are_named_and_still_read_as_a_frame_with_a_warning():
    rng = np.random.RandomState(0)
    corpus_b = rng.normal(size=(100, 6))
    queries_b = corpus_b[:40] + 0.5 * rng.normal(size=(40, 6))
    rotation = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    scores = migration_scores(
        queries_b @ rotation, corpus_b @ rotation, queries_b, corpus_b
    )
    assert isinstance(scores, MigrationScores)
    assert scores.mapped.as_dict() == pytest.approx(scores.reembedded.as_dict())
    assert scores.fraction == pytest.approx(dict.fromkeys(scores.fraction, 1.0))
    frame = scores.to_frame()
    assert list(frame.columns) == ["mapped", "re-embedded", "fraction"]
    assert frame.index.tolist() == ["recall@1", "recall@10", "mrr@10"]
    with pytest.warns(FutureWarning, match=r"to_frame\(\)"):
        pd.testing.assert_series_equal(scores["fraction"], frame["fraction"])
    with pytest.warns(FutureWarning):
        assert scores.loc["recall@10", "mapped"] == frame.loc["recall@10", "mapped"]
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        scores.nonsense  # noqa: B018
    # targets reach both searches.
    order = rng.permutation(100)
    targets = np.argsort(order)[:40]
    moved = migration_scores(
        queries_b @ rotation,
        (corpus_b @ rotation)[order],
        queries_b,
        corpus_b[order],
        targets=targets,
    )
    assert moved.to_frame().to_numpy() == pytest.approx(frame.to_numpy())
