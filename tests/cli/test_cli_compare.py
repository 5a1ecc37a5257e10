"""``skrelrep compare A B`` on the four file types, and on hostile files."""

import json
import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skrelrep import _compare_command
from skrelrep.cli import main
from skrelrep.metrics import compare_spaces
from skrelrep.utils._files import (
    DataFileError,
    read_embeddings,
    read_labels,
    split_spec,
)

OPTIONS = ["--anchors", "12", "--k", "4", "--permutations", "9", "--seed", "5"]
FIGURES = ["nulls.png", "neighbours.png", "anchors.png"]


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 5))
    rotation = np.linalg.qr(rng.normal(size=(7, 7)))[0][:5]
    B = A @ rotation + 0.3 * rng.normal(size=(60, 7))
    return A, B


def _write(path, X, kind):
    """Write ``X`` as ``kind``; returns the argument that names it."""
    if kind == "npy":
        np.save(path.with_suffix(".npy"), X)
        return str(path.with_suffix(".npy"))
    if kind == "npz":
        np.savez(path.with_suffix(".npz"), X)
        return str(path.with_suffix(".npz"))
    if kind == "npz-key":
        np.savez(path.with_suffix(".npz"), other=X[:3], embeddings=X)
        return f"{path.with_suffix('.npz')}:embeddings"
    if kind == "parquet":
        pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])]).to_parquet(
            path.with_suffix(".parquet")
        )
        return str(path.with_suffix(".parquet"))
    if kind == "parquet-lists":
        column = pa.array(X.tolist(), type=pa.list_(pa.float64(), X.shape[1]))
        pq.write_table(pa.table({"embedding": column}), path.with_suffix(".parquet"))
        return str(path.with_suffix(".parquet"))
    if kind == "csv":  # with a header line
        pd.DataFrame(X).to_csv(path.with_suffix(".csv"), index=False)
        return str(path.with_suffix(".csv"))
    assert kind == "csv-bare"
    np.savetxt(path.with_suffix(".csv"), X, delimiter=",", fmt="%.17g")
    return str(path.with_suffix(".csv"))


def _error_line(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skrelrep compare: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("kind_a", "kind_b"),
    [
        ("npy", "npz"),
        ("parquet", "csv"),
        ("csv-bare", "npz-key"),
        ("parquet-lists", "npy"),
    ],
)
def test_every_file_type_gives_the_metrics_of_the_python_function(
    tmp_path, spaces, kind_a, kind_b, capsys
):
    A, B = spaces
    first = _write(tmp_path / "first", A, kind_a)
    second = _write(tmp_path / "second", B, kind_b)
    out = tmp_path / "report"
    assert main(["compare", first, second, "--out", str(out), *OPTIONS]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    expected = compare_spaces(
        A, B, n_anchors=12, k=4, n_permutations=9, random_state=5
    ).metrics
    assert list(metrics) == list(expected)
    assert metrics == pytest.approx(expected, rel=1e-12)
    for key in ["linear_cka", "debiased_cka", "mutual_knn@4", "retrieval_jaccard@4"]:
        assert key in metrics and f"{key}_pvalue" in metrics
    report = (out / "report.md").read_text()
    assert f"`{first}`, 60 items x 5 features" in report
    assert f"`{second}`, 60 items x 7 features" in report
    assert "| retrieval_mrr@4 | relative |" in report
    for figure in FIGURES:
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({figure})" in report
    printed = capsys.readouterr()
    assert "retrieval_mrr@4" in printed.out
    assert printed.err == ""  # no warning on ordinary files
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries


def test_labels_and_no_permutations(tmp_path, spaces):
    A, B = spaces
    first, second = _write(tmp_path / "a", A, "npy"), _write(tmp_path / "b", B, "npy")
    labels = tmp_path / "labels.txt"
    names = np.array(["cat", "dog"])[np.arange(60) % 2]
    labels.write_text("\n".join(names) + "\n")
    out = tmp_path / "out"
    argv = ["compare", first, second, "--labels", str(labels), "--out", str(out)]
    assert main([*argv, "--permutations", "0", "--k", "4", "--anchors", "12"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    expected = compare_spaces(A, B, n_anchors=12, k=4, labels=names, n_permutations=0)
    assert metrics == pytest.approx(expected.metrics)
    assert "label_purity_a@4" in metrics and not any("pvalue" in m for m in metrics)
    report = (out / "report.md").read_text()
    assert "| cat | 30 |" in report and "nulls.png" not in report


def _hostile(tmp_path, A, case):
    """A file for an error case; returns (argument, what the message must say)."""
    path = tmp_path / "hostile"
    if case == "missing":
        return str(tmp_path / "nowhere.npy"), "cannot read"
    if case == "rows":
        return _write(path, A[:-1], "npy"), "has 59 rows"
    if case == "nan":
        bad = A.copy()
        bad[7, 1] = np.nan
        return _write(path, bad, "npy"), "NaN or infinite values"
    if case == "inf-csv":
        bad = A.copy()
        bad[3, 0] = np.inf
        return _write(path, bad, "csv"), "NaN or infinite"
    if case == "text-csv":
        path.with_suffix(".csv").write_text("1,2\n3,four\n5,6\n7,8\n")
        return str(path.with_suffix(".csv")), "'four' is not a number"
    if case == "text-parquet":
        pq.write_table(pa.table({"x": ["a", "b", "c", "d"]}), path.with_suffix(".pq"))
        target = path.with_suffix(".parquet")
        path.with_suffix(".pq").rename(target)
        return str(target), "column 'x' holds string, not numbers"
    if case == "strings-npy":
        np.save(path.with_suffix(".npy"), np.array([["a", "b"]] * 4))
        return str(path.with_suffix(".npy")), "not numbers"
    if case == "one-d":
        return _write(path, A[:, 0], "npy"), "expected a 2-D array"
    if case == "garbage-parquet":
        path.with_suffix(".parquet").write_bytes(b"not a parquet file at all")
        return str(path.with_suffix(".parquet")), "cannot read as .parquet"
    if case == "npz-several":
        np.savez(path.with_suffix(".npz"), first=A, second=A)
        return str(path.with_suffix(".npz")), "(first, second); choose one as"
    if case == "npz-no-key":
        np.savez(path.with_suffix(".npz"), first=A)
        return f"{path.with_suffix('.npz')}:second", "has no array 'second'"
    if case == "suffix":
        path.with_suffix(".json").write_text("[[1, 2]]")
        return str(path.with_suffix(".json")), "unsupported file type '.json'"
    if case == "index-csv":
        pd.DataFrame(A).to_csv(path.with_suffix(".csv"))  # pandas' index column
        return str(path.with_suffix(".csv")), "index=False"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "rows",
        "nan",
        "inf-csv",
        "text-csv",
        "text-parquet",
        "strings-npy",
        "one-d",
        "garbage-parquet",
        "npz-several",
        "npz-no-key",
        "suffix",
        "index-csv",
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_exit_2(tmp_path, spaces, case, capsys):
    A, B = spaces
    good = _write(tmp_path / "good", A, "npy")
    bad, says = _hostile(tmp_path, B, case)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["compare", good, bad, "--out", str(out)])
    assert exit_.value.code == 2
    line = _error_line(capsys)
    assert bad in line and says in line
    assert list(out.iterdir()) == []  # nothing written


class _RunsCode:
    """Unpickling this would create ``marker``: a pickle can run any code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize(
    "kind", ["object-npy", "pickle-npy", "object-npz", "pickle-npz"]
)
def test_pickles_and_object_arrays_are_refused_and_never_run(
    tmp_path, spaces, kind, capsys
):
    A, _ = spaces
    marker = tmp_path / "pwned"
    payload = _RunsCode(marker)
    suffix = ".npz" if kind.endswith("npz") else ".npy"
    path = tmp_path / f"hostile{suffix}"
    if kind == "object-npy":
        np.save(path, np.array([payload, payload], dtype=object), allow_pickle=True)
    elif kind == "object-npz":
        np.savez(path, x=np.array([payload, payload], dtype=object))
    else:  # a bare pickle under a NumPy name
        path.write_bytes(pickle.dumps(payload))
    good = _write(tmp_path / "good", A, "npy")
    with pytest.raises(SystemExit) as exit_:
        main(["compare", good, str(path), "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    line = _error_line(capsys)
    assert str(path) in line and "refused" in line
    assert not marker.exists()


def test_labels_of_the_wrong_length_name_the_file(tmp_path, spaces, capsys):
    A, B = spaces
    labels = tmp_path / "labels.csv"
    labels.write_text("label\n" + "\n".join(["x"] * 60) + "\n")  # a header line
    first, second = _write(tmp_path / "a", A, "npy"), _write(tmp_path / "b", B, "npy")
    with pytest.raises(SystemExit) as exit_:
        main(
            ["compare", first, second, "--labels", str(labels), "--out", str(tmp_path)]
        )
    assert exit_.value.code == 2
    assert "has 61 labels for 60 items" in _error_line(capsys)


def test_out_is_checked_before_any_file_is_read(tmp_path, spaces, capsys, monkeypatch):
    def must_not_read(name):
        raise AssertionError("a file was read before --out was checked")

    monkeypatch.setattr(_compare_command, "read_embeddings", must_not_read)
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "missing.npy", "missing.npy", "--out", str(blocker)])
    assert exit_.value.code == 2
    assert "--out" in _error_line(capsys)
    assert blocker.read_text() == "keep me"


def test_k_too_large_for_the_items_exits_2(tmp_path, spaces, capsys):
    A, B = spaces
    first, second = _write(tmp_path / "a", A, "npy"), _write(tmp_path / "b", B, "npy")
    with pytest.raises(SystemExit) as exit_:
        main(["compare", first, second, "--k", "40", "--out", str(tmp_path / "o")])
    assert exit_.value.code == 2
    assert "--k 40: too large for 60 items" in _error_line(capsys)


@pytest.mark.parametrize("stage", ["compare_spaces", "read_embeddings"])
def test_ctrl_c_exits_130(tmp_path, spaces, capsys, monkeypatch, stage):
    # While the measures are computed, or while a (large) file is read.
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_compare_command, stage, interrupted)
    A, B = spaces
    first, second = _write(tmp_path / "a", A, "npy"), _write(tmp_path / "b", B, "npy")
    out = tmp_path / "out"
    assert main(["compare", first, second, "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []


# The readers as an API (the migrate command will read its files with them too).


def test_read_embeddings_returns_the_array_and_what_was_read(tmp_path, spaces):
    A, _ = spaces
    exact = tmp_path / "exact.csv"
    pd.DataFrame(A, columns=[f"f{j}" for j in range(5)]).to_csv(exact, index=False)
    values, description = read_embeddings(exact)
    assert np.array_equal(values, A) and values.dtype == np.float64
    assert description == "60 items x 5 features, float64; line 1 is a header"
    small = A.astype(np.float32)
    column = pa.array(small.tolist(), type=pa.list_(pa.float32(), 5))
    pq.write_table(
        pa.table({"text": ["t"] * 60, "vector": column}), tmp_path / "v.parquet"
    )
    values, description = read_embeddings(f"{tmp_path / 'v.parquet'}:vector")
    assert values.dtype == np.float32 and np.array_equal(values, small)
    assert description == "60 items x 5 features, float32"
    values, description = read_embeddings(tmp_path / "v.parquet")
    assert np.array_equal(values, small)
    assert description.endswith("; column 'vector'; columns not read: 'text'")


def test_one_error_type_carries_the_file_name(tmp_path):
    spec = f"{tmp_path / 'none.npz'}:key"
    with pytest.raises(DataFileError) as error:
        read_embeddings(spec)
    assert error.value.name == spec
    assert str(error.value) == f"{spec}: {error.value.reason}"
    assert error.value.reason.startswith("cannot read (No such file")
    copy = pickle.loads(pickle.dumps(error.value))
    assert (copy.name, copy.reason, str(copy)) == (
        spec,
        error.value.reason,
        str(error.value),
    )
    assert split_spec(spec) == (tmp_path / "none.npz", "key")
    # A file whose name has a colon is that file, not a selector.
    literal = tmp_path / "a.npz:b"
    with open(literal, "wb") as handle:
        np.savez(handle, x=np.ones((3, 2)))
    assert split_spec(literal) == (literal, None)
    with pytest.raises(DataFileError, match=r"unsupported file type '\.npz:b'"):
        read_embeddings(literal)


def test_read_labels_from_pandas_parquet_files(tmp_path):
    topics = pd.Series(["a", "b", "c"] * 10, dtype="category")
    kept = topics[topics.index % 4 != 0].to_frame("topic")  # a filtered index
    kept.to_parquet(tmp_path / "topics.parquet")
    labels, description = read_labels(tmp_path / "topics.parquet")
    assert labels.tolist() == kept["topic"].astype(str).tolist()
    assert description == (
        "22 labels, 3 classes; its pandas index ('__index_level_0__') is not data"
    )
    frame = kept.assign(weight=1.5)
    frame.to_parquet(tmp_path / "two.parquet")
    with pytest.raises(DataFileError, match=r"holds 2 columns .* FILE\.parquet:COLUMN"):
        read_labels(tmp_path / "two.parquet")
    assert read_labels(f"{tmp_path / 'two.parquet'}:topic")[0].tolist() == (
        labels.tolist()
    )
