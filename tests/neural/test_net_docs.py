"""The nets' docstrings: assembled from one block of entries, valid numpydoc.

The four nets share most of their parameters; their entries come from one block
(``skrelrep/neural/_docs.py``), so the same parameter reads the same in every net and
its documented default is the default in the code.
"""

import ast
import inspect

import pytest
from numpydoc.docscrape import ClassDoc
from numpydoc.validate import validate

from skrelrep.neural import (
    AutoEncoder,
    NeuralEncoder,
    RelativeAutoEncoder,
    RelativeClassifier,
)
from skrelrep.neural._docs import NET_DOCS
from skrelrep.utils._docstrings import fill_doc

NETS = [NeuralEncoder, AutoEncoder, RelativeClassifier, RelativeAutoEncoder]


def _entries(cls, section):
    return {item.name: item for item in ClassDoc(cls)[section]}


@pytest.mark.parametrize("Net", NETS, ids=lambda cls: cls.__name__)
def test_docstring_is_valid_numpydoc(Net):
    """No numpydoc error but the parameters that skorch's ``**kwargs`` carries."""
    errors = dict(validate(f"skrelrep.neural.{Net.__name__}")["errors"])
    unknown = errors.pop("PR02", "Unknown parameters set()")
    assert errors == {}
    # numpydoc reads the signature, where the shared parameters are **kwargs: what
    # it does not find there must be a real parameter of the net.
    unknown = ast.literal_eval(unknown.removeprefix("Unknown parameters "))
    assert {"lr", "max_epochs"} <= unknown
    params = Net().get_params(deep=False)
    assert unknown <= set(params)
    for name in _entries(Net, "Parameters"):
        assert name == "**kwargs" or name in params, name


@pytest.mark.parametrize("Net", NETS, ids=lambda cls: cls.__name__)
def test_every_parameter_of_our_own_is_documented_with_its_default(Net):
    documented = _entries(Net, "Parameters")
    ours = {}
    for klass in reversed(Net.__mro__):
        if klass.__module__.startswith("skrelrep") and "__init__" in vars(klass):
            ours.update(inspect.signature(klass.__init__).parameters)
    for name, parameter in ours.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            assert "**kwargs" in documented
            continue
        if name == "self":
            continue
        entry = documented[name]
        if parameter.default is not parameter.empty:
            default = parameter.default
            shown = getattr(default, "__name__", None) or repr(default)
            assert (
                entry.type.split("default=")[1]
                .strip('"')
                .endswith(str(shown).strip("'"))
            ), (name, entry.type)


def test_shared_entries_read_the_same_in_every_net():
    """Apart from the context words (head or decoder), one entry, one text."""
    texts = {}
    for Net in NETS:
        for section in ("Parameters", "Attributes"):
            for name, entry in _entries(Net, section).items():
                if name in ("head", "decoder", "normalization", "random_state"):
                    continue
                if name == "**kwargs":
                    continue
                texts.setdefault((name, entry.type), set()).add(" ".join(entry.desc))
    assert texts
    for key, variants in texts.items():
        assert len(variants) == 1, key
    # Every entry of the block is used by some net.
    used = {
        name
        for Net in NETS
        for s in ("Parameters", "Attributes")
        for name in _entries(Net, s)
    }
    assert set(NET_DOCS) - {"kwargs"} <= used


def test_fill_doc_reads_defaults_and_refuses_unknown_placeholders():
    entries = {"alpha": "alpha : float, default=$default\n    The $what."}

    @fill_doc(entries, what="weight")
    class Documented:
        """Summary.

        Parameters
        ----------
        {{alpha}}
        """

        def __init__(self, alpha=0.5):
            self.alpha = alpha

    assert "    alpha : float, default=0.5\n            The weight." in (
        Documented.__doc__
    )
    with pytest.raises(KeyError, match="beta"):

        @fill_doc(entries, what="weight")
        class Missing:
            """{{beta}}"""

    with pytest.raises(KeyError, match="what"):

        @fill_doc(entries)
        class NoContext:
            """
            {{alpha}}
            """

            def __init__(self, alpha=0.5):
                self.alpha = alpha
