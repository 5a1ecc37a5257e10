"""Tests for skrelrep.datasets: real data on tiny slices, synthetic files, missing data."""

import gzip
import importlib.util
import re
import sys

import numpy as np
import pytest
from sklearn import datasets as sk_datasets

from skrelrep.datasets import (
    DataNotInstalledError,
    _chatterbot,
    _fashion_mnist,
    _fortunes,
    _word_corpus,
    load_chatterbot_parallel,
    load_digits,
    load_fashion_mnist,
    load_fortunes,
    load_word_corpus,
)
from skrelrep.datasets._base import tokenize

APT = "apt-get install -y --no-install-recommends"


def _assert_names_install(error_info, command):
    assert command in str(error_info.value)
    assert error_info.value.install == command
    assert isinstance(error_info.value, OSError)


# ---------------------------------------------------------------------------
# digits


def test_digits_subsets_are_rows_of_sklearn_digits():
    X_all, y_all = sk_datasets.load_digits(return_X_y=True)
    X, y = load_digits(return_X_y=True)
    np.testing.assert_array_equal(X, X_all)
    np.testing.assert_array_equal(y, y_all)
    first = load_digits(n_samples=30)
    np.testing.assert_array_equal(first.data, X_all[:30])
    np.testing.assert_array_equal(first.images, first.data.reshape(-1, 8, 8))
    drawn = load_digits(n_samples=30, random_state=0)
    again = load_digits(n_samples=30, random_state=0)
    other = load_digits(n_samples=30, random_state=1)
    np.testing.assert_array_equal(drawn.data, again.data)
    assert not np.array_equal(drawn.target, other.target)
    # Each drawn row is a row of the full set, with its label.
    for row, label in zip(drawn.data, drawn.target, strict=True):
        matches = np.flatnonzero((X_all == row).all(axis=1))
        assert label in y_all[matches]
    assert set(load_digits(n_class=3, return_X_y=True)[1].tolist()) == {0, 1, 2}


# ---------------------------------------------------------------------------
# Fashion-MNIST


def _write_idx(folder, prefix, images, labels, magic_images=2051):
    folder.mkdir(parents=True, exist_ok=True)
    n = len(labels)
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
        f.write(np.array([magic_images, n, 28, 28], dtype=">i4").tobytes())
        f.write(np.asarray(images, dtype=np.uint8).tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
        f.write(np.array([2049, n], dtype=">i4").tobytes())
        f.write(np.asarray(labels, dtype=np.uint8).tobytes())


def test_fashion_mnist_reads_idx_files_exactly(tmp_path):
    images = np.arange(3 * 784).reshape(3, 28, 28) % 256
    _write_idx(tmp_path, "t10k", images, [7, 0, 9])
    bunch = load_fashion_mnist("test", data_home=tmp_path)
    np.testing.assert_array_equal(bunch.target, [7, 0, 9])
    np.testing.assert_allclose(bunch.images * 255, images, atol=1e-4)
    assert bunch.data.shape == (3, 784)
    assert bunch.data.dtype == np.float32
    assert bunch.target_names[7] == "Sneaker"
    X, y = load_fashion_mnist("test", n_samples=2, data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(y, [7, 0])
    np.testing.assert_array_equal(X, bunch.data[:2])


def test_fashion_mnist_rejects_malformed_files(tmp_path):
    _write_idx(tmp_path / "magic", "train", np.zeros((1, 784)), [1], magic_images=7)
    with pytest.raises(ValueError, match="not an IDX file"):
        load_fashion_mnist(data_home=tmp_path / "magic")
    _write_idx(tmp_path / "short", "train", np.zeros((1, 700)), [1])
    with pytest.raises(ValueError, match="truncated"):
        load_fashion_mnist(data_home=tmp_path / "short")
    with pytest.raises(ValueError, match="subset must be"):
        load_fashion_mnist("validation")


def test_fashion_mnist_real_test_split_slice():
    full = load_fashion_mnist("test")
    # The published split: 10,000 test images, 1,000 per class.
    assert full.data.shape == (10_000, 784)
    np.testing.assert_array_equal(np.bincount(full.target), np.full(10, 1000))
    assert 0.0 <= full.data.min() and full.data.max() == 1.0
    first = load_fashion_mnist("test", n_samples=20)
    np.testing.assert_array_equal(first.data, full.data[:20])
    np.testing.assert_array_equal(first.target, full.target[:20])
    drawn = load_fashion_mnist("test", n_samples=20, random_state=0)
    again = load_fashion_mnist("test", n_samples=20, random_state=0)
    np.testing.assert_array_equal(drawn.data, again.data)
    rows = np.sort(np.random.RandomState(0).choice(10_000, 20, replace=False))
    np.testing.assert_array_equal(drawn.target, full.target[rows])
    train = load_fashion_mnist("train", n_samples=5, return_X_y=True)
    assert train[0].shape == (5, 784)


def test_fashion_mnist_missing_package(tmp_path, monkeypatch):
    monkeypatch.setattr(_fashion_mnist, "DATA_HOME", tmp_path / "missing")
    with pytest.raises(
        DataNotInstalledError, match="Fashion-MNIST is not installed"
    ) as e:
        load_fashion_mnist()
    _assert_names_install(e, f"{APT} dataset-fashion-mnist")


# ---------------------------------------------------------------------------
# fortunes


@pytest.fixture
def fortune_home(tmp_path):
    """A fortunes folder shaped like the Debian packages'."""
    (tmp_path / "food").write_text(
        "Eat your greens.\n%\n\n%\nA _\bb_\bo_\bl_\bd c\bcl\bla\bai\bim\bm:\n\tpie is\n food.\n%\nlast\n"
    )
    (tmp_path / "food.dat").write_bytes(b"\x00\x02\xff")
    (tmp_path / "food.u8").symlink_to("food")
    (tmp_path / "sport.fortunes").write_text("one\n%\ntwo\n%\nthree\n%\nfour\n%\n")
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "rude").write_text("never read\n%\n")
    (tmp_path / "it").mkdir()
    (tmp_path / "it" / "cibo").write_text("Mangia.\n%\nBevi.\n")
    (tmp_path / "cibo").symlink_to("it/cibo")  # language packages link like this
    return tmp_path


def test_fortunes_parse_entries_and_skip_index_files(fortune_home):
    bunch = load_fortunes(data_home=fortune_home)
    assert bunch.target_names == ["food", "sport"]
    assert bunch.data == [
        "Eat your greens.",
        "A bold claim:\n\tpie is\n food.",
        "last",
        "one",
        "two",
        "three",
        "four",
    ]
    np.testing.assert_array_equal(bunch.target, [0, 0, 0, 1, 1, 1, 1])
    texts, y = load_fortunes(
        ["sport", "food"], n_per_topic=2, data_home=fortune_home, return_X_y=True
    )
    assert texts == [
        "one",
        "two",
        "Eat your greens.",
        "A bold claim:\n\tpie is\n food.",
    ]
    np.testing.assert_array_equal(y, [0, 0, 1, 1])
    italian = load_fortunes(language="it", data_home=fortune_home)
    assert italian.data == ["Mangia.", "Bevi."]
    assert italian.target_names == ["cibo"]
    assert load_fortunes(max_chars=5, data_home=fortune_home).data == [
        "last",
        "one",
        "two",
        "three",
        "four",
    ]


def test_fortunes_random_subsets_are_deterministic(fortune_home):
    def draw(seed):
        return load_fortunes(
            "sport", n_per_topic=2, random_state=seed, data_home=fortune_home
        ).data

    assert draw(0) == draw(0)
    assert {tuple(draw(seed)) for seed in range(10)} != {tuple(draw(0))}
    for seed in range(10):
        subset = draw(seed)
        assert len(subset) == 2
        assert subset == sorted(subset, key=["one", "two", "three", "four"].index)


def test_fortunes_bad_arguments(fortune_home):
    with pytest.raises(ValueError, match="unknown: \\['fruit'\\]"):
        load_fortunes(["food", "fruit"], data_home=fortune_home)
    with pytest.raises(ValueError, match="distinct"):
        load_fortunes(["food", "food"], data_home=fortune_home)
    with pytest.raises(ValueError, match="language code"):
        load_fortunes(language="../off", data_home=fortune_home)
    with pytest.raises(ValueError, match="n_per_topic == 0"):
        load_fortunes(n_per_topic=0, data_home=fortune_home)


def test_fortunes_missing_package(tmp_path, monkeypatch):
    monkeypatch.setattr(_fortunes, "DATA_HOME", tmp_path / "missing")
    with pytest.raises(DataNotInstalledError) as e:
        load_fortunes()
    _assert_names_install(e, f"{APT} fortunes")
    with pytest.raises(DataNotInstalledError) as e:
        load_fortunes(language="de", data_home=tmp_path)
    _assert_names_install(e, f"{APT} fortunes-de")
    with pytest.raises(DataNotInstalledError, match="no fortune files"):
        load_fortunes(data_home=tmp_path)


def test_fortunes_real_english_slice():
    bunch = load_fortunes(["computers", "food", "sports"], n_per_topic=5)
    assert len(bunch.data) == 15
    np.testing.assert_array_equal(np.bincount(bunch.target), [5, 5, 5])
    for text in bunch.data:
        assert text and text == text.strip()
        assert "\x08" not in text
        assert not re.search(r"^%\s*$", text, flags=re.MULTILINE)
    topics = load_fortunes(n_per_topic=1).target_names
    assert {"computers", "food", "law", "love", "science", "sports"} <= set(topics)
    # Other languages' files linked into the folder are not English topics.
    assert "italia" not in topics


@pytest.mark.parametrize(
    "language,topic", [("de", "computer"), ("es", "ciencia"), ("it", "italia")]
)
def test_fortunes_real_other_languages(language, topic):
    texts, y = load_fortunes([topic], n_per_topic=3, language=language, return_X_y=True)
    assert len(texts) == 3
    assert y.tolist() == [0, 0, 0]


# ---------------------------------------------------------------------------
# chatterbot parallel corpus


def _write_corpus(root, files):
    for language, topics in files.items():
        (root / language).mkdir(parents=True)
        for topic, text in topics.items():
            (root / language / f"{topic}.yml").write_text(text, encoding="utf-8")


_EN_FOOD = "conversations:\n- - do you eat\n  - No.\n- - do you eat\n  - No.\n- - pizza?\n  - Yes!\n"
_IT_FOOD = (
    "conversations:\n- - mangi\n  - No.\n- - mangi\n  - No.\n- - pizza?\n  - Sì!\n"
)


def test_chatterbot_aligns_files_and_skips_mismatches(tmp_path):
    _write_corpus(
        tmp_path,
        {
            "english": {
                "food": _EN_FOOD,
                "ai": "conversations:\n- - a\n  - b\n- - c\n  - d\n  - e\n",
                "bad": "conversations: [",
                "only": "conversations:\n- - x\n  - y\n",
            },
            "italian": {
                "food": _IT_FOOD,
                "ai": "conversations:\n- - a\n  - b\n  - c\n- - d\n  - e\n",
                "bad": "conversations:\n- - x\n  - y\n",
            },
        },
    )
    bunch = load_chatterbot_parallel(data_home=tmp_path, drop_duplicates=False)
    assert bunch.data.columns.tolist() == ["english", "italian"]
    assert bunch.data.values.tolist() == [
        ["do you eat", "mangi"],
        ["No.", "No."],
        ["do you eat", "mangi"],
        ["No.", "No."],
        ["pizza?", "pizza?"],
        ["Yes!", "Sì!"],
    ]
    assert bunch.target_names == ["food"]
    assert bunch.target.tolist() == [0] * 6
    # Same total number of lines, but not the same conversations: not aligned.
    assert set(bunch.skipped_topics) == {"ai", "bad"}
    X, _ = load_chatterbot_parallel(data_home=tmp_path, return_X_y=True)
    assert X.values.tolist() == [
        ["do you eat", "mangi"],
        ["No.", "No."],
        ["pizza?", "pizza?"],
        ["Yes!", "Sì!"],
    ]
    X, _ = load_chatterbot_parallel(
        ["italian"], data_home=tmp_path, n_samples=2, random_state=0, return_X_y=True
    )
    assert X.columns.tolist() == ["italian"]
    assert len(X) == 2
    with pytest.raises(ValueError, match="unknown: \\['french'\\]"):
        load_chatterbot_parallel(["english", "french"], data_home=tmp_path)
    with pytest.raises(ValueError, match="not in every language"):
        load_chatterbot_parallel(topics=["only"], data_home=tmp_path)


def test_chatterbot_real_english_italian():
    bunch = load_chatterbot_parallel()
    assert {"ai", "computers", "emotion", "food", "money"} <= set(bunch.target_names)
    assert "conversations" in bunch.skipped_topics
    assert len(bunch.data) > 700
    assert not bunch.data.duplicated().any()
    assert (bunch.data.map(len) > 0).all().all()
    rows = bunch.data.set_index("english")["italian"]
    assert rows["What is a computer?"] == "Cos'è un computer?"
    assert rows["You are arrogant"] == "Sei arrogante"
    food = bunch.target_names.index("food")
    assert rows["Electricity is food for robots."] == "Elettricità è cibo per robots."
    is_food = bunch.data.english == "Electricity is food for robots."
    assert bunch.target[is_food.to_numpy()].tolist() == [food]
    drawn = load_chatterbot_parallel(n_samples=50, random_state=0)
    again = load_chatterbot_parallel(n_samples=50, random_state=0)
    assert drawn.data.equals(again.data)
    np.testing.assert_array_equal(drawn.target, again.target)
    assert len(drawn.data) == 50


def test_chatterbot_missing_package(tmp_path, monkeypatch):
    command = "pip install chatterbot-corpus==1.3.3 pyyaml"
    with pytest.raises(DataNotInstalledError) as e:
        load_chatterbot_parallel(data_home=tmp_path / "missing")
    _assert_names_install(e, command)
    find_spec = importlib.util.find_spec

    def without_corpus(name, *args, **kwargs):
        return None if name == "chatterbot_corpus" else find_spec(name, *args, **kwargs)

    monkeypatch.setattr(_chatterbot.importlib.util, "find_spec", without_corpus)
    with pytest.raises(DataNotInstalledError, match="chatterbot_corpus") as e:
        load_chatterbot_parallel()
    _assert_names_install(e, command)
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(DataNotInstalledError, match="yaml") as e:
        load_chatterbot_parallel()
    _assert_names_install(e, command)


# ---------------------------------------------------------------------------
# word corpus


def test_tokenize():
    assert tokenize("Don’t PANIC: 42 mice, one_two & the L'Hôpital rule!") == [
        "don't",
        "panic",
        "mice",
        "one",
        "two",
        "the",
        "l'hôpital",
        "rule",
    ]
    assert tokenize("Hi THERE", lowercase=False) == ["Hi", "THERE"]


def test_word_corpus_bible_slice():
    ruth = load_word_corpus(books=["Ruth"])
    assert len(ruth) == 85  # Ruth has 85 verses
    assert ruth[0][:6] == ["now", "it", "came", "to", "pass", "in"]
    assert ruth[-1][-3:] == ["jesse", "begat", "david"]
    both = load_word_corpus(books=["Ruth", "Jude"])
    assert len(both) == 85 + 25
    assert both[:85] == ruth
    words = {word for sentence in both for word in sentence}
    assert all(word.isalpha() or "'" in word for word in words)
    assert all(word == word.lower() for word in words)
    # Psalm titles are headings, not verses.
    psalm = load_word_corpus(books=["Psalms 3"])
    assert len(psalm) == 8
    assert psalm[0][:3] == ["lord", "how", "are"]
    drawn = load_word_corpus(books="Ruth", n_sentences=10, random_state=0)
    assert drawn == load_word_corpus(books="Ruth", n_sentences=10, random_state=0)
    assert all(sentence in ruth for sentence in drawn)
    assert load_word_corpus(books="Ruth", n_sentences=3) == ruth[:3]


def test_word_corpus_fortunes_slice():
    sentences = load_word_corpus("fortunes", topics=["food"], n_sentences=30)
    texts = load_fortunes(["food"]).data
    assert sentences == [tokenize(text) for text in texts][:30]


def test_word_corpus_bad_arguments():
    with pytest.raises(ValueError, match="source must be"):
        load_word_corpus("wiki")
    with pytest.raises(ValueError, match="use books"):
        load_word_corpus("bible", topics=["food"])
    with pytest.raises(ValueError, match="use topics"):
        load_word_corpus("fortunes", books=["Ruth"])
    with pytest.raises(ValueError, match="no verses"):
        load_word_corpus(books=["Nosuchbook"])
    with pytest.raises(ValueError, match="non-empty book names"):
        load_word_corpus(books=[""])


def test_word_corpus_missing_packages(monkeypatch):
    command = f"{APT} sword-text-kjv diatheke"
    monkeypatch.setattr(_word_corpus, "DIATHEKE", "no-such-diatheke")
    _word_corpus._kjv_module.cache_clear()
    _word_corpus._kjv_verses.cache_clear()
    try:
        with pytest.raises(DataNotInstalledError, match="no-such-diatheke") as e:
            load_word_corpus(books=["Jude"])
        _assert_names_install(e, command)
        monkeypatch.undo()
        monkeypatch.setattr(_word_corpus, "KJV_MODULE", re.compile("NO-SUCH-MODULE"))
        _word_corpus._kjv_module.cache_clear()
        _word_corpus._kjv_verses.cache_clear()
        with pytest.raises(DataNotInstalledError, match="no KJV module") as e:
            load_word_corpus(books=["Jude"])
        _assert_names_install(e, command)
    finally:
        _word_corpus._kjv_module.cache_clear()
        _word_corpus._kjv_verses.cache_clear()


@pytest.mark.slow
def test_word_corpus_whole_bible():
    sentences = load_word_corpus()
    assert len(sentences) == 31_102
    assert 780_000 < sum(map(len, sentences)) < 800_000
