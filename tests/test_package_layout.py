"""The package's layers: a lower layer never imports a higher one, no import cycles, small folders.

Parsed from the source (no imports executed), so a forbidden import fails here even when it sits inside a
function body.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "lessons_lib"
# Bottom to top. Modules in one layer may import each other (inside one folder) but not a sibling folder.
LAYERS = {"device": 0, "validate": 0, "history": 0, "functional": 1, "data": 2, "scratch": 3, "training": 3, "models": 4,
          "deploy": 4, "notebook": 5}
MAX_MODULES = 9  # "about eight" per folder; notebook/exercises holds one module per chapter and is exempt


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def _targets(module, names):
    """The lessons_lib modules an import statement reaches (``from lessons_lib.data import toy`` -> data.toy)."""
    if not module.startswith("lessons_lib"):
        return []
    known = dict(_modules())
    submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in known]
    whole = not names or len(submodules) < len(names)  # a name that is not a module comes from `module` itself
    return ([module] if whole else []) + submodules


def _layer(module: str):
    parts = module.split(".")
    return (parts[1], LAYERS[parts[1]]) if len(parts) > 1 else (None, None)


def test_every_folder_and_module_has_a_layer():
    for module, _ in _modules():
        parts = module.split(".")
        if len(parts) > 1:
            assert parts[1] in LAYERS, f"{module}: {parts[1]!r} has no layer in LAYERS; add it in dependency order"


def _violations(modules):
    problems = []
    for module, path in modules:
        here, level = _layer(module)
        if here is None:
            continue  # lessons_lib/__init__.py is the top: setup() may use any layer
        for lineno, target, names in _imports(path):
            for t in _targets(target, names):
                there, their_level = _layer(t)
                if there is None:
                    problems.append(f"{path.name}:{lineno} imports the package root ({t}); import the module itself")
                elif there != here and their_level >= level:
                    problems.append(f"{module} (layer {here}) imports {t} (layer {there}), line {lineno}")
    return problems


def test_no_upward_or_sideways_import():
    problems = _violations(_modules())
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_the_checker_reports_upward_and_sideways_imports(tmp_path):
    """The rule itself can fail: a function-level upward import and a sideways one are both reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\n\ndef f():\n    from lessons_lib.notebook.viz import PALETTE\n"
                   "    from lessons_lib.training.loop import fit\n")
    problems = _violations([("lessons_lib.functional.bad", bad), ("lessons_lib.scratch.bad", bad)])
    assert sorted(problems) == sorted([
        "lessons_lib.functional.bad (layer functional) imports lessons_lib.notebook.viz (layer notebook), line 4",
        "lessons_lib.functional.bad (layer functional) imports lessons_lib.training.loop (layer training), line 5",
        "lessons_lib.scratch.bad (layer scratch) imports lessons_lib.notebook.viz (layer notebook), line 4",
        "lessons_lib.scratch.bad (layer scratch) imports lessons_lib.training.loop (layer training), line 5",
    ])


def test_no_import_cycles():
    graph = {}
    for module, path in _modules():
        graph[module] = {t for _, target, names in _imports(path) for t in _targets(target, names) if t != module}
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in graph.get(m, ()):
            if state.get(n) == "open":
                cycle = stack[stack.index(n):] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m)


def test_folders_stay_small():
    for folder in sorted(p for p in ROOT.rglob("*") if p.is_dir() and p.name != "__pycache__"):
        if folder.name == "exercises":
            continue
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_MODULES, f"{folder.relative_to(ROOT.parent)} has {len(modules)} modules; split it"
