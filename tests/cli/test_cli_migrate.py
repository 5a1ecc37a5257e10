"""``skrelrep migrate plan`` on every index file type, a FAISS file, and bad files."""

import json

import numpy as np
import pandas as pd
import pytest

from skrelrep import _migrate_command
from skrelrep.cli import main
from skrelrep.utils._files import read_embeddings

faiss = pytest.importorskip("faiss")
pytest.importorskip("skops")

from skrelrep.retrieval import QueryBridge, load_bridge  # noqa: E402

OPTIONS = ["--no-progress", "--seed", "0"]


@pytest.fixture(scope="module")
def spaces():
    """An old index, a new space that is its rotated noisy copy, anchors, queries."""
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(10, 12))
    index = centres[rng.randint(10, size=240)] + 0.6 * rng.normal(size=(240, 12))
    rotation = np.linalg.qr(rng.normal(size=(12, 12)))[0]
    new = index @ rotation + 0.05 * rng.normal(size=index.shape)
    anchors = rng.choice(240, 40, replace=False)
    queries = new + 0.1 * rng.normal(size=new.shape)
    return {
        "index": index.astype(np.float32),
        "old": index[anchors].astype(np.float32),
        "new": new[anchors].astype(np.float32),
        "queries": queries.astype(np.float32),
    }


def _faiss_file(path, X, factory):
    index = faiss.index_factory(X.shape[1], factory)
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not index.is_trained:
        index.train(X)
    if factory.startswith("IDMap"):
        index.add_with_ids(X, np.arange(X.shape[0]) * 7 + 3)
    else:
        index.add(X)
    faiss.write_index(index, str(path))
    return str(path)


def _write(tmp_path, spaces, index_spec=None):
    files = {}
    for name in ("old", "new", "queries"):
        files[name] = str(tmp_path / f"{name}.npy")
        np.save(files[name], spaces[name])
    if index_spec is None:
        index_spec = str(tmp_path / "index.npy")
        np.save(index_spec, spaces["index"])
    return index_spec, files


def _plan(tmp_path, index_spec, files, *extra):
    out = tmp_path / "out"
    argv = ["migrate", "plan", index_spec, files["old"], files["new"]]
    return main([*argv, "--out", str(out), *OPTIONS, *extra]), out


def test_plan_writes_the_forecast_the_recommendation_and_the_bridge(
    tmp_path, spaces, capsys
):
    index_spec, files = _write(tmp_path, spaces)
    status, out = _plan(tmp_path, index_spec, files, "--queries", files["queries"])
    assert status == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [
        "bridge.skops",
        "forecast.png",
        "plan.json",
        "report.md",
    ]
    plan = json.loads((out / "plan.json").read_text())
    low, high = plan["interval"]
    assert low <= plan["forecast_recall@10"] <= high
    assert plan["recommendation"] == (
        "bridge" if plan["forecast_recall@10"] >= plan["threshold"] else "re-embed"
    )
    assert plan["n_unpaired_queries"] == 240 and plan["n_index"] == 240
    assert [p["n_anchors"] for p in plan["curve"]] == [20, 40]
    assert "QueryBridge" in plan["method"]

    bridge = load_bridge(out / "bridge.skops")
    assert bridge.forecast_["recall@10"] == plan["forecast_recall@10"]
    # The saved bridge is the one fitted on every anchor, with the same settings.
    again = QueryBridge(random_state=0).fit(
        spaces["new"],
        spaces["old"],
        index=spaces["index"],
        unpaired_queries=spaces["queries"],
    )
    np.testing.assert_allclose(
        bridge.transform(spaces["queries"]), again.transform(spaces["queries"])
    )
    # A rotated, noisy copy: the bridge finds each query's own document.
    ids = bridge.kneighbors(spaces["queries"], n_neighbors=1, return_distance=False)
    assert (ids.ravel() == np.arange(240)).mean() > 0.9

    report = (out / "report.md").read_text()
    for heading in ("## Forecast", "## Recommendation", "anchors", "## Chosen method"):
        assert heading in report
    assert plan["rule"] in report
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries


@pytest.mark.parametrize(
    "factory", ["Flat", "IDMap,Flat", "HNSW16", "IVF4,Flat", "FlatIP"]
)
def test_a_faiss_index_storing_its_vectors_is_read_back(tmp_path, spaces, factory):
    metric = faiss.METRIC_INNER_PRODUCT if factory == "FlatIP" else faiss.METRIC_L2
    index = faiss.index_factory(12, factory.replace("FlatIP", "Flat"), metric)
    X = spaces["index"]
    if not index.is_trained:
        index.train(X)
    if factory.startswith("IDMap"):
        index.add_with_ids(X, np.arange(240) * 7 + 3)
    else:
        index.add(X)
    path = tmp_path / "index.faiss"
    faiss.write_index(index, str(path))
    values, about = read_embeddings(str(path))
    np.testing.assert_array_equal(values, X)
    assert values.dtype == np.float32 and "FAISS" in about


def test_plan_from_a_faiss_file_is_the_plan_from_its_vectors(tmp_path, spaces, capsys):
    index_spec, files = _write(tmp_path, spaces)
    status, out = _plan(tmp_path, index_spec, files)
    assert status == 0
    from_npy = json.loads((out / "plan.json").read_text())
    faiss_spec = _faiss_file(tmp_path / "old.index", spaces["index"], "HNSW16")
    status, out = _plan(tmp_path, faiss_spec, files)
    assert status == 0, capsys.readouterr().err
    from_faiss = json.loads((out / "plan.json").read_text())
    assert from_faiss == from_npy


@pytest.mark.parametrize("kind", ["npz-key", "parquet", "csv"])
def test_plan_reads_the_compare_file_types(tmp_path, spaces, kind, capsys):
    X = spaces["index"].astype(np.float64)
    if kind == "npz-key":
        np.savez(tmp_path / "index.npz", other=X[:3], vectors=X)
        spec = f"{tmp_path / 'index.npz'}:vectors"
    elif kind == "parquet":
        pd.DataFrame(X, columns=[f"f{j}" for j in range(12)]).to_parquet(
            tmp_path / "index.parquet"
        )
        spec = str(tmp_path / "index.parquet")
    else:
        np.savetxt(tmp_path / "index.csv", X, delimiter=",", fmt="%.17g")
        spec = str(tmp_path / "index.csv")
    _, files = _write(tmp_path, spaces, spec)
    status, out = _plan(tmp_path, spec, files)
    assert status == 0, capsys.readouterr().err
    assert json.loads((out / "plan.json").read_text())["n_index"] == 240


@pytest.mark.parametrize("factory", ["PQ4x4", "SQ8", "IVF4,PQ4x4", "LSH"])
def test_a_compressed_faiss_index_is_refused_with_how_to_export(
    tmp_path, spaces, factory, capsys
):
    spec = _faiss_file(tmp_path / "old.faiss", spaces["index"], factory)
    _, files = _write(tmp_path, spaces, spec)
    with pytest.raises(SystemExit) as exit_info:
        _plan(tmp_path, spec, files)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert spec in err and "numpy.save" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _bad(tmp_path, spaces, capsys, mutate):
    index_spec, files = _write(tmp_path, spaces)
    index_spec = mutate(tmp_path, index_spec, files)
    with pytest.raises(SystemExit) as exit_info:
        _plan(tmp_path, index_spec, files)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_a_missing_file_is_one_line_naming_it(tmp_path, spaces, capsys):
    def mutate(tmp_path, index_spec, files):
        files["new"] = str(tmp_path / "missing.npy")
        return index_spec

    assert "missing.npy" in _bad(tmp_path, spaces, capsys, mutate)


def test_anchor_rows_that_differ_are_refused(tmp_path, spaces, capsys):
    def mutate(tmp_path, index_spec, files):
        np.save(files["new"], spaces["new"][:-1])
        return index_spec

    err = _bad(tmp_path, spaces, capsys, mutate)
    assert files_named(err, "new.npy") and "same anchor" in err


def test_an_index_of_another_width_is_refused(tmp_path, spaces, capsys):
    def mutate(tmp_path, index_spec, files):
        np.save(index_spec, spaces["index"][:, :8])
        return index_spec

    err = _bad(tmp_path, spaces, capsys, mutate)
    assert "index.npy" in err and "features" in err


def test_a_non_finite_index_is_refused(tmp_path, spaces, capsys):
    def mutate(tmp_path, index_spec, files):
        X = spaces["index"].copy()
        X[5, 2] = np.nan
        np.save(index_spec, X)
        return index_spec

    assert "NaN" in _bad(tmp_path, spaces, capsys, mutate)


def files_named(err, name):
    return name in err


def test_out_is_checked_first(tmp_path, spaces, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["migrate", "plan", "missing.npy", "missing.npy", "missing.npy"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(blocker / "out")])
    assert exit_info.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_ctrl_c_exits_130(tmp_path, spaces, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_migrate_command, "read_embeddings", interrupted)
    index_spec, files = _write(tmp_path, spaces)
    status, out = _plan(tmp_path, index_spec, files)
    assert status == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_the_curve_halves_down_to_the_fewest_anchors():
    assert _migrate_command.anchor_counts(12) == [12]
    assert _migrate_command.anchor_counts(1000) == [62, 125, 250, 500, 1000]
    assert _migrate_command.anchor_counts(50) == [12, 25, 50]


@pytest.mark.parametrize("content", [b"not an index", b""])
def test_a_file_that_is_no_faiss_index_is_one_line(tmp_path, spaces, content, capsys):
    def mutate(tmp_path, index_spec, files):
        path = tmp_path / "junk.faiss"
        path.write_bytes(content)
        return str(path)

    err = _bad(tmp_path, spaces, capsys, mutate)
    assert "junk.faiss: is not an index FAISS can read" in err


def test_no_curve_fits_once_on_every_anchor(tmp_path, spaces, capsys):
    index_spec, files = _write(tmp_path, spaces)
    status, out = _plan(tmp_path, index_spec, files, "--no-curve")
    assert status == 0, capsys.readouterr().err
    plan = json.loads((out / "plan.json").read_text())
    assert [p["n_anchors"] for p in plan["curve"]] == [40]
    assert "changed the forecast" not in (out / "report.md").read_text()
