"""Print skrelrep's import graph, its layers, cycles and module sizes.

Every ``import`` statement counts, at module level or inside a function: a cycle
hidden in a function-level import is still a cycle. The graph is read from the
sources with :mod:`ast`, so nothing is imported (the optional extras need not be
installed). Run from the repository root::

    python scripts/import_graph.py           # the graph, by layer, and module sizes
    python scripts/import_graph.py --check   # exit 1 on a cycle or a layering breach

``tests/test_layout.py`` runs the same checks.
"""

import argparse
import ast
import sys
from pathlib import Path

PACKAGE = "skrelrep"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# Layers, lowest first. A module may import from its own layer and the ones below;
# an import from a higher layer is a breach. The first matching prefix decides. The
# core is layered too, in the order the data flows: similarities and anchor
# selection, then the relative stage that uses them, translation and stitching,
# the metrics that score them, and retrieval across spaces, which scores with them.
LAYERS = [
    ("utils", [f"{PACKAGE}.utils"]),
    (
        "similarity/anchors",
        [
            f"{PACKAGE}.similarity",
            f"{PACKAGE}.anchors",
            f"{PACKAGE}._mlp_encoder",
        ],
    ),
    ("relative", [f"{PACKAGE}.relative"]),
    (
        "translation/stitching",
        [f"{PACKAGE}._translation", f"{PACKAGE}.stitching"],
    ),
    ("metrics", [f"{PACKAGE}.metrics"]),
    ("retrieval", [f"{PACKAGE}.retrieval"]),
    # The package's front door re-exports the core.
    ("api", [f"{PACKAGE}.__init__"]),
    (
        "optional",
        [
            f"{PACKAGE}.neural",
            f"{PACKAGE}.encoders",
            f"{PACKAGE}.datasets",
        ],
    ),
    (
        "application",
        [
            f"{PACKAGE}.experiments",
            f"{PACKAGE}.report",
            f"{PACKAGE}.plotting",
            f"{PACKAGE}._compare_command",
            f"{PACKAGE}._migrate_command",
            f"{PACKAGE}.cli",
            f"{PACKAGE}.__main__",
        ],
    ),
]

MAX_LINES = 600


def module_name(path):
    """``skrelrep/a/b.py`` -> ``skrelrep.a.b``; a package's ``__init__`` keeps it."""
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts)


def package_of(name):
    """The package a module's relative imports start from."""
    if name.endswith(".__init__"):
        return name[: -len(".__init__")]
    return name.rsplit(".", 1)[0]


def modules():
    """``{module name: path}`` for every Python file of the package."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def resolve(target, known):
    """The known module that ``target`` (a dotted import target) names."""
    candidates = [target, f"{target}.__init__"]
    for candidate in candidates:
        if candidate in known:
            return candidate
    return None


def imports_of(name, path, known):
    """The package's modules that module ``name`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(name).split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from pkg import sub` imports the submodule `pkg.sub` when it is one,
            # and otherwise a name that `pkg` (its __init__) defines.
            targets = [
                f"{prefix}.{alias.name}"
                if resolve(f"{prefix}.{alias.name}", known)
                else prefix
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if not target.startswith(PACKAGE):
                continue
            module = resolve(target, known)
            if module is not None and module != name:
                found.add(module)
    return found


def graph():
    """``{module: set of the package's modules it imports}``."""
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def layer_of(name):
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return index
    return None


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _same_subpackage(a, b):
    """Both inside the same subpackage (``skrelrep.x.*``), which may import itself."""
    pa, pb = package_of(a), package_of(b)
    return pa == pb and pa != PACKAGE


def breaches(edges):
    """Imports that point up the layers, or out of the package's public front door."""
    found = []
    for source, targets in sorted(edges.items()):
        source_layer = layer_of(source)
        for target in sorted(targets):
            target_layer = layer_of(target)
            if source_layer is None or target_layer is None:
                found.append((source, target, "module outside every layer"))
            elif target_layer > source_layer and not _same_subpackage(source, target):
                found.append((source, target, "imports a higher layer"))
    return found


def sizes():
    """``{module: number of lines}``."""
    return {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in modules().items()
    }


def report(edges, out=sys.stdout):
    print(
        "Import graph of skrelrep (every import statement, functions included)",
        file=out,
    )
    for layer_index, (layer, _) in enumerate(LAYERS):
        print(f"\n[{layer}]", file=out)
        for name in sorted(n for n in edges if layer_of(n) == layer_index):
            targets = ", ".join(_short(t) for t in sorted(edges[name])) or "-"
            print(f"  {_short(name)} -> {targets}", file=out)
    loops = cycles(edges)
    print(f"\nCycles: {len(loops)}", file=out)
    for loop in loops:
        print("  " + " <-> ".join(_short(m) for m in loop), file=out)
    bad = breaches(edges)
    print(f"Layering breaches: {len(bad)}", file=out)
    for source, target, why in bad:
        print(f"  {_short(source)} -> {_short(target)}: {why}", file=out)
    counted = sizes()
    print(f"\nModule sizes (lines; limit {MAX_LINES}):", file=out)
    for name, lines in sorted(counted.items(), key=lambda item: -item[1]):
        print(f"  {lines:5d}  {_short(name)}", file=out)
    return loops, bad


def _short(name):
    return name.removesuffix(".__init__")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on a cycle or a breach"
    )
    args = parser.parse_args(argv)
    loops, bad = report(graph())
    too_long = [name for name, lines in sizes().items() if lines > MAX_LINES]
    if args.check and (loops or bad or too_long):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
