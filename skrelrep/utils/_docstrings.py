"""Docstrings assembled from shared entries, written once for several estimators.

Estimators that share parameters (the pretrained encoders, the neural nets) take
their entries from one block, so the entries cannot drift apart. A class docstring
holds a line ``{{name}}`` where an entry goes; :func:`fill_doc` replaces it with the
entry, indented like the placeholder, and fills the entry's ``$default`` from the
class's signature, so a documented default is the default in the code.
"""

import inspect
import re
import string
import sys
import textwrap

__all__ = ["fill_doc"]

_PLACEHOLDER = re.compile(r"^(?P<indent>[ ]*)\{\{(?P<name>\w+)\}\}[ ]*$", re.MULTILINE)
# Inline markup that must not be split across lines: ``literals`` and `roles`.
_INLINE = re.compile(r"``.+?``|`[^`]+`")
_KEEP = "\x00"  # a space that wrapping must not break at


def fill_doc(entries, **context):
    """Class decorator: put ``entries[name]`` at each line ``{{name}}`` of the docstring.

    An entry is a numpydoc item written flush left: a first line ``name : type``, then
    a description of one paragraph of prose indented by four spaces, which is wrapped
    again to fit 88 columns where it lands. It is a :class:`string.Template`:
    ``$default`` becomes the default of the parameter of that name in ``__init__``
    (the class's or a base's), and any other ``$word`` the keyword argument ``word``
    of this function. A placeholder with no entry, or a ``$word`` with no value,
    raises when the class is defined.
    """

    def decorate(cls):
        defaults = _init_defaults(cls)

        def replace(match):
            name = match["name"]
            if name not in entries:
                raise KeyError(
                    f"{cls.__name__}'s docstring asks for {{{{{name}}}}}, "
                    "which no shared entry documents."
                )
            values = dict(context)
            if name in defaults:
                values["default"] = _format_default(defaults[name])
            try:
                text = string.Template(entries[name]).substitute(values)
            except KeyError as exc:
                raise KeyError(
                    f"The entry {name!r} of {cls.__name__}'s docstring needs "
                    f"${exc.args[0]}, which is not given."
                ) from None
            return _indent(text, match["indent"])

        cls.__doc__ = _PLACEHOLDER.sub(replace, cls.__doc__)
        return cls

    return decorate


def _indent(entry, indent):
    """The entry at ``indent``, its description re-wrapped to 88 columns."""
    head, _, description = entry.partition("\n")
    lines = [indent + head]
    if description.strip():
        prose = _INLINE.sub(
            lambda m: m[0].replace(" ", _KEEP), " ".join(description.split())
        )
        lines += textwrap.wrap(
            prose,
            width=88,
            initial_indent=indent + "    ",
            subsequent_indent=indent + "    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return "\n".join(lines).replace(_KEEP, " ")


def _init_defaults(cls):
    """Default of every keyword of ``__init__``, the subclass's first."""
    defaults = {}
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty:
                defaults.setdefault(parameter.name, parameter.default)
    return defaults


def _format_default(value):
    """A default as the docs write it: strings quoted, classes by a public path."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, type):
        return _public_name(value)
    return repr(value)


def _public_name(cls):
    """``torch.nn.MSELoss`` rather than ``torch.nn.modules.loss.MSELoss``; our own
    classes by their bare name, as the docs cross-reference them."""
    if cls.__module__.split(".")[0] == "skrelrep":
        return cls.__qualname__
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        path = ".".join(parts[:end])
        if getattr(sys.modules.get(path), cls.__qualname__, None) is cls:
            return f"{path}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"
