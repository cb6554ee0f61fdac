"""No file under gui/ reaches into an engine object's private state (DESIGN.md: the GUI
uses the engine's public calls and records only).

An AST walk over gui/**/*.py flags `<expr>._name` (and getattr/setattr/hasattr with a
"_name" string) unless <expr> is `self` or `cls`, when either
- <expr> names an engine object: model, layer(s), optimizer, trace, record, history,
  callback (as `model`, `self._model`, `self.model.layers[0]`, `lay`, `opt`, ...), or
- `_name` is a private attribute the engine's own classes define (collected from core/).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE_FILES = ["core/model.py", "core/step.py", "core/optimizers.py", "core/trace.py",
                "core/callbacks.py", "core/losses.py", "core/activations.py"]
ENGINE_DIRS = ["core/layers", "core/fast"]
ENGINE_WORD = re.compile(
    r"^(model|net|network|layer|lay|layers|optimizer|opt|trace|step_trace|record|rec|"
    r"history|callback|callbacks|loss_fn)(_\w+)?s?$")


def _engine_private_names() -> set[str]:
    """Private attributes and methods the engine's classes define (self._x = ..., def _x)."""
    files = [ROOT / f for f in ENGINE_FILES]
    for d in ENGINE_DIRS:
        files += sorted((ROOT / d).rglob("*.py"))
    names = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in ast.walk(node):
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                            _private(item.name):
                        names.add(item.name)
                    elif isinstance(item, ast.Attribute) and isinstance(item.ctx, ast.Store) \
                            and isinstance(item.value, ast.Name) and item.value.id == "self" \
                            and _private(item.attr):
                        names.add(item.attr)
                    elif isinstance(item, ast.Constant) and isinstance(item.value, str) \
                            and _private(item.value) and item.value.isidentifier():
                        names.add(item.value)  # __slots__ entries
    return names


def _private(name: str) -> bool:
    return len(name) > 1 and name.startswith("_") and not (
        name.startswith("__") and name.endswith("__"))


def _subject(expr) -> str | None:
    """The word an expression is named by: `model`, `self._model` → model,
    `self.model.layers[0]` → layers, `m.optimizer` → optimizer."""
    while isinstance(expr, (ast.Subscript, ast.Call)):
        expr = expr.value if isinstance(expr, ast.Subscript) else expr.func
    if isinstance(expr, ast.Name):
        return expr.id.lstrip("_")
    if isinstance(expr, ast.Attribute):
        return expr.attr.lstrip("_")
    return None


def _is_self(expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id in ("self", "cls")


def violations(source: str, engine_names: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        target = attr = None
        if isinstance(node, ast.Attribute) and _private(node.attr):
            target, attr = node.value, node.attr
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "setattr", "hasattr", "delattr") and \
                len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and \
                isinstance(node.args[1].value, str) and _private(node.args[1].value):
            target, attr = node.args[0], node.args[1].value
        if target is None or _is_self(target):
            continue
        word = _subject(target)
        if attr in engine_names or (word is not None and ENGINE_WORD.match(word)):
            found.append((node.lineno, f"{ast.unparse(target)}.{attr}"))
    return found


def test_no_gui_file_touches_a_private_attribute_of_an_engine_object():
    names = _engine_private_names()
    assert {"_lock", "_cache", "_slots"} <= names  # the scan sees the engine's own state
    bad = []
    for f in sorted((ROOT / "gui").rglob("*.py")):
        for line, what in violations(f.read_text(encoding="utf-8"), names):
            bad.append(f"{f.relative_to(ROOT)}:{line}: {what}")
    assert not bad, "gui/ reaches into the engine:\n" + "\n".join(bad)


def test_the_scan_catches_what_the_diagram_used_to_do():
    names = _engine_private_names()
    before = '''
def weights_of(model):
    with model._lock:
        return [lay.params for lay in model.layers]

class Diagram:
    def set_param(self, layer, value):
        with self._model._lock:
            self._model.layers[layer]._cache = {}
        getattr(self.model.optimizer, "_slots")
        self.trace._x = 1
'''
    got = sorted(what for _, what in violations(before, names))
    assert got == sorted(["model._lock", "self._model._lock", "self._model.layers[layer]._cache",
                          "self.model.optimizer._slots", "self.trace._x"])
    fine = '''
class W:
    def f(self, slider, w):
        self._lock = 1
        slider._show()
        w._fn(*w._args)
        getattr(self._diagram, "_output_names", None)
'''
    assert violations(fine, names) == []
