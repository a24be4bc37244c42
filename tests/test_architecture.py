"""The shape ARCHITECTURE.md promises (issue 17): short functions with few parameters, the speed machinery behind
one seam, and no state kept at module level. Read from the source with ast: nothing is imported or run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "generator" / "persona_site"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_PARAMETERS = 6
MAX_LINES = 60
CHOOSE_AN_ENGINE = ("cli.py", "preview.py")
"""Where an engine is chosen for a command (the build's and serve's): the only modules outside incremental/ that
may name it."""
MUTABLE_CALLS = frozenset(("dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "bytearray"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text("utf-8"), str(path))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(_tree(path)) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Its named parameters, positional and keyword-only, but self and cls (*args and **options are one way in)."""
    arguments = function.args
    return [a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            if a.arg not in ("self", "cls")]


def test_no_function_takes_more_than_six_parameters():
    # A click command counts too: its options come grouped (cli.QuoteSearch, importer._Asked). A dataclass's own
    # __init__ is not in the source: it may have any number of fields.
    crowded = [f"{_name(path)}:{function.lineno} {function.name}({', '.join(_parameters(function))})"
               for path in MODULES for function in _functions(path) if len(_parameters(function)) > MAX_PARAMETERS]
    assert not crowded, "group them in a dataclass, or pass the object that already holds them:\n" + "\n".join(crowded)


def test_no_function_is_longer_than_sixty_lines():
    long = [f"{_name(path)}:{function.lineno} {function.name}: {function.end_lineno - function.lineno + 1} lines"
            for path in MODULES for function in _functions(path)
            if function.end_lineno - function.lineno + 1 > MAX_LINES]
    assert not long, "split them into well-named pieces:\n" + "\n".join(long)


def _imports_of_incremental(tree: ast.Module, depth: int) -> list[int]:
    """The lines of the imports (at the top or in a function) that name the incremental package, in a module
    `depth` packages below persona_site (0: a module of persona_site itself)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against persona_site
                if node.level - 1 != depth:
                    continue  # from persona_site.importers (or deeper) into a sibling: never incremental
                names = [node.module] if node.module else [alias.name for alias in node.names]
            else:
                names = [node.module.removeprefix("persona_site.")] if node.module else []
        elif isinstance(node, ast.Import):
            names = [alias.name.removeprefix("persona_site.") for alias in node.names]
        else:
            continue
        lines += [node.lineno for name in names if name.split(".")[0] == "incremental"]
    return lines


def test_the_domain_modules_import_nothing_from_incremental():
    outside = [path for path in MODULES if path.relative_to(PACKAGE).parts[0] != "incremental"
               and _name(path) not in CHOOSE_AN_ENGINE]
    imports = [f"{_name(path)}:{line}" for path in outside
               for line in _imports_of_incremental(_tree(path), len(path.relative_to(PACKAGE).parts) - 1)]
    assert not imports, "the engine is given to the pipeline, never imported by it:\n" + "\n".join(imports)


@pytest.mark.parametrize("source, depth", [
    ("from .incremental import PersistentEngine", 0), ("from . import incremental", 0),
    ("def f():\n    from .incremental.cache import x", 0), ("from ..incremental import cold", 1),
    ("import persona_site.incremental.pool", 0), ("from persona_site.incremental import ColdEngine", 1)])
def test_the_import_check_sees_an_import_of_incremental(source, depth):
    assert len(_imports_of_incremental(ast.parse(source), depth)) == 1


def test_the_import_check_leaves_other_imports_alone():
    assert _imports_of_incremental(ast.parse("from .importers import incremental_id\nfrom . import cache"), 0) == []


def _mutable_names(tree: ast.Module) -> list[str]:
    """Module-level names bound to a dict, list or set (a literal, a comprehension, or dict() and the like):
    state that any code may change. A constant is a tuple, a frozenset or a MappingProxyType."""
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        called = value.func if isinstance(value, ast.Call) else None
        mutable = isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)) or (
            isinstance(called, ast.Name) and called.id in MUTABLE_CALLS
            or isinstance(called, ast.Attribute) and called.attr in MUTABLE_CALLS)
        if mutable:
            names += [f"{target.id} (line {node.lineno})" for target in targets
                      if isinstance(target, ast.Name) and target.id != "__all__"]
    return names


def test_no_module_keeps_mutable_state():
    state = [f"{_name(path)}: {name}" for path in MODULES for name in _mutable_names(_tree(path))]
    assert not state, ("keep state in an object its owner passes along; make a constant a tuple, frozenset or "
                       "MappingProxyType:\n" + "\n".join(state))


@pytest.mark.parametrize("statement", ["_seen = {}", "_seen: dict[str, int] = {}", "_queue = []", "_names = set()",
                                       "_by_path = collections.defaultdict(list)", "_squares = {n: n * n for n in X}"])
def test_the_state_check_sees_mutable_state(statement):
    tree = ast.parse(f"import collections\n{statement}\nDONE = frozenset()\nTYPES = MappingProxyType({{}})\n"
                     "__all__ = ['x']\n")
    assert len(_mutable_names(tree)) == 1
