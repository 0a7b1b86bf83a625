"""The structure holds: imports point one way, there are no circles, and nothing decides at
run time whether a part of the project exists.

An AST walk over every project file (function-level imports included); the layers are those of
docs/architecture.md, and a new module must be placed in one before it can land.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("mailflow", "parsers", "storage", "amp_forms", "email_templates")
# Bottom to top. A module may import its own layer (without a circle) and the layers below.
LAYERS: tuple[tuple[str, ...], ...] = (
    (  # foundation: pure parts and fixed data
        "storage",
        "parsers",
        "amp_forms",
        "email_templates",
        "mailflow.i18n",
        "mailflow.mime",
        "mailflow.tokens",
        "mailflow.passwords",
        "mailflow.survey_types",
        "mailflow.demo_data",
        "mailflow.notice_words",
        "mailflow.console_words",
        "mailflow.reason_words",
        "mailflow.negative",
        "mailflow.health",
    ),
    (  # configuration and records
        "mailflow.surveys",
        "mailflow.settings",
        "mailflow.survey_store",
        "mailflow.scale",
        "mailflow.answer_sql",
        "mailflow.answer_reasons",
        "mailflow.telegram_chats",
        "mailflow.auth",
        "mailflow.contacts",
        "mailflow.segments",
        "mailflow.database",
    ),
    (  # services over records: making mail, queues, figures
        "mailflow.render",
        "mailflow.triggers",
        "mailflow.notifications",
        "mailflow.webhooks",
        "mailflow.facts",
        "mailflow.followups",
        "mailflow.reports",
        "mailflow.export",
    ),
    (  # flows: an event becomes a request, a request a sent email, an answer its effects
        "mailflow.events",
        "mailflow.outbox",
        "mailflow.after_answer",
        "mailflow.answers",
        "mailflow.escalation",
    ),
    (
        "mailflow.inbound",
        "mailflow.telegram",
        "mailflow.web",
        "mailflow.demo",
    ),  # channels: mail in, the browser
    ("mailflow.service",),  # the assembly
    ("mailflow.cli", "mailflow.__main__", "mailflow"),  # entry points
)
GUARDS = {"import_module", "find_spec", "__import__"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The project module an imported name lives in (a package's face counts as the package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = _owner(name)
                if target and target != module:
                    edges[module].add(target)
    return edges


EDGES = _imports()


def _area(module: str) -> str:
    """The unit of the layer table: a mailflow subpackage or top-level module, else a package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "mailflow" else parts[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted({*edges, *(n for targets in edges.values() for n in targets)}):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_project():
    assert "mailflow.answers" in MODULES and "parsers.kinds" in MODULES
    assert "mailflow.after_answer" in EDGES["mailflow.answers"]


def test_no_import_cycle_between_modules():
    assert _cycles(EDGES) == []


def test_no_import_cycle_between_areas():
    areas: dict[str, set[str]] = defaultdict(set)
    for module, targets in EDGES.items():
        for target in targets:
            if _area(module) != _area(target):
                areas[_area(module)].add(_area(target))
    assert _cycles(areas) == []


def test_every_area_has_a_layer():
    placed = {area for layer in LAYERS for area in layer}
    assert {_area(module) for module in MODULES} - placed == set()


def test_imports_never_point_up_a_layer():
    rank = {area: n for n, layer in enumerate(LAYERS) for area in layer}
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in EDGES.items()
        for target in targets
        if rank[_area(target)] > rank[_area(module)]
    )
    assert upward == []


def test_pure_parts_import_nothing_of_the_application():
    for module, targets in EDGES.items():
        if module.startswith(("parsers", "storage", "amp_forms", "email_templates")):
            assert not [t for t in targets if t.startswith("mailflow")], module
        if module.startswith("parsers"):
            assert all(t.startswith("parsers") for t in targets), module


def test_no_run_time_module_guards():
    """What the project is made of is decided by its imports, not by probing at run time."""
    guarded = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in GUARDS:
                    guarded.append(f"{module}:{node.lineno}")
    assert guarded == []
