"""Small Sphinx helpers for an offline build of docstrings written the scikit-learn way.

- Attribute names in numpydoc type lines, such as ``(n_anchors_,)`` or
  ``(n_samples, *input_shape_)``, are shown as literals: otherwise reStructuredText
  reads a trailing underscore as a link target and ``*`` as emphasis.
- ``:term:`` and a few ``:ref:`` targets of scikit-learn's documentation (its
  glossary, used by docstrings that scikit-learn generates or that follow its
  template) link to scikit-learn's site, which intersphinx would need the network
  for.
"""

import re

from docutils import nodes

SKLEARN = "https://scikit-learn.org/stable/"
# scikit-learn labels that docstrings inherited from it reference.
SKLEARN_LABELS = {
    "metadata_routing": ("metadata_routing.html", "Metadata Routing"),
}

# "name : type" (also "*args : type" and "a, b : type") at the start of a line.
_FIELD = re.compile(r"^(\s*\*{0,2}\w+(?:,\s*\*{0,2}\w+)*\s+:\s+)(.+)$")
# An identifier ending in "_" (optionally starred), not already in backticks.
_ATTRIBUTE = re.compile(r"(?<![`\w*])(\*?[A-Za-z_]\w*_)(?![\w`])")


def _quote_attribute_names(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match:
            head, spec = match.groups()
            lines[i] = head + _ATTRIBUTE.sub(r"``\1``", spec)


def _sklearn_reference(app, env, node, contnode):
    if node.get("refdomain") != "std":
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "term":
        anchor = "term-" + re.sub(r"[^a-z0-9]+", "-", target.lower()).strip("-")
        uri = f"{SKLEARN}glossary.html#{anchor}"
    elif node.get("reftype") == "ref" and target in SKLEARN_LABELS:
        page, title = SKLEARN_LABELS[target]
        uri = SKLEARN + page
        if not node.get("refexplicit"):
            contnode = nodes.inline(title, title)
    else:
        return None
    reference = nodes.reference("", "", internal=False, refuri=uri)
    reference += contnode
    return reference


def setup(app):
    # Before numpydoc (priority 500) turns the sections into markup.
    app.connect("autodoc-process-docstring", _quote_attribute_names, priority=400)
    app.connect("missing-reference", _sklearn_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
