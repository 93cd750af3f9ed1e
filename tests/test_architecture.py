"""The layer rules of docs/architecture.md, checked on the source text (``ast``; nothing is imported).

Data path: sensors → collector → pipeline → core → pipeline sinks (files, store); the pipeline
wires them, ``ui`` presents the pipeline, ``cli`` sits on top of everything. Every ``import`` and
``from … import`` counts, wherever it is written (module level, inside a function, under
``TYPE_CHECKING``): a lazy import is still a dependency.

A *unit* is a sub-package of ``gaitmon`` (``gaitmon/core/`` → ``core``) or a top-level module
(``gaitmon/axes.py`` → ``axes``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "gaitmon"

#: top-level modules allowed beside the packages: the package itself, ``python -m gaitmon``, and
#: small shared leaf utilities
TOP_LEVEL_MODULES = {"__init__", "__main__", "axes", "names"}

#: the gaitmon units the core may import: itself and the leaf utility it shares with the
#: simulator, the collector config and the command line
CORE_MAY_IMPORT = {"core", "axes"}

#: third-party and standard modules that do I/O (radio, network, database, terminal, files of
#: foreign formats): none of them in the core
IO_LIBRARIES = {"bleak", "dbus_fast", "influxdb_client", "requests", "httpx", "niquests", "urllib3", "aiohttp",
                "grafana_client", "grafana_foundation_sdk", "rich", "socket", "sqlite3", "pyarrow",
                "matplotlib", "ezc3d", "dashboards"}

#: what each unit must not import (besides the core's allow-list above)
FORBIDDEN = {
    "sensors": "ALL_BUT:sensors,axes",  # the bottom: pure decoders, nothing above them
    "collector": {"pipeline", "cli", "ui", "store", "analysis", "report", "grafana"},
    "store": {"collector", "sensors", "pipeline", "cli", "ui", "core", "sources", "analysis", "report",
              "grafana"},
    "pipeline": {"cli", "ui"},
    "ui": {"cli"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _unit(module: str) -> str | None:
    """``gaitmon.core.stream`` → ``core``; ``gaitmon.axes`` → ``axes``; ``gaitmon`` → ``__init__``;
    None outside gaitmon."""
    parts = module.split(".")
    if parts[0] != "gaitmon":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in the file; ``from pkg import sub`` gives
    ``pkg.sub`` when ``sub`` is a module of gaitmon."""
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_pkg:
                    base = base[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in _modules()]
            out += [(s, node.lineno) for s in subs] or [(target, node.lineno)]
    return out


@cache
def _edges() -> dict[str, list[tuple[str, str, int, str]]]:
    """unit -> [(imported module, importing module, line, imported unit or '')]."""
    edges = defaultdict(list)
    for module, path in _modules().items():
        unit = _unit(module)
        for target, line in _imports(module, path):
            edges[unit].append((target, module, line, _unit(target) or ""))
    return edges


def _violations(unit: str, bad) -> list[str]:
    return [f"{src}:{line} imports {target}" for target, src, line, tunit in _edges().get(unit, ())
            if tunit and tunit != unit and bad(tunit)]


def test_only_the_leaf_utilities_stay_top_level():
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= TOP_LEVEL_MODULES, f"modules at gaitmon/ top level: {sorted(top - TOP_LEVEL_MODULES)}"


def test_core_imports_nothing_of_the_layers_around_it():
    assert _violations("core", lambda u: u not in CORE_MAY_IMPORT) == []


def test_core_uses_no_io_library():
    hits = [f"{src}:{line} imports {target}" for target, src, line, tunit in _edges().get("core", ())
            if not tunit and target.split(".")[0] in IO_LIBRARIES]
    assert hits == []


@pytest.mark.parametrize("unit", sorted(FORBIDDEN))
def test_layer_rules(unit):
    rule = FORBIDDEN[unit]
    if isinstance(rule, str):
        allowed = set(rule.removeprefix("ALL_BUT:").split(","))
        bad = lambda u: u not in allowed  # noqa: E731
    else:
        bad = rule.__contains__
    assert _violations(unit, bad) == []


def test_nothing_imports_the_cli_but_main():
    hits = [f"{src}:{line} imports {target}" for unit, es in _edges().items() if unit not in ("cli", "__main__")
            for target, src, line, tunit in es if tunit == "cli"]
    assert hits == []


def test_no_import_cycles_between_units():
    graph: dict[str, set[str]] = defaultdict(set)
    for unit, es in _edges().items():
        graph[unit] |= {tunit for _t, _s, _l, tunit in es if tunit and tunit != unit}
    graph.pop("__init__", None)  # the package's own __init__ imports nothing; a cycle through it is no layer cycle
    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(u: str, stack: list[str]) -> None:
        state[u] = 1
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                cycles.append(" → ".join(stack[stack.index(v):] + [u, v]) if v in stack else f"{u} → {v}")
            elif v not in state:
                visit(v, stack + [u])
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u, [])
    assert cycles == [], "import cycles between gaitmon's packages:\n" + "\n".join(cycles)


def test_the_checker_sees_imports():
    """The rules above pass vacuously if the parser finds nothing: it finds the known edges."""
    e = _edges()
    assert any(t == "gaitmon.core.types" for t, *_ in e["names"])
    assert {tu for *_, tu in e["cli"]} >= {"core", "store"}
    assert any(tu == "sensors" for *_, tu in e["collector"])
