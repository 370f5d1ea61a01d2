"""The import rule of ARCHITECTURE.md, checked on every module's imports (also those made inside
functions and under TYPE_CHECKING): a forbidden import fails here with the module and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE = ("orchestration.errors", "orchestration.vocabulary", "orchestration.settings", "orchestration.logs")
PROJECT = ("orchestration", "handlers", "webapp")

# layer -> project packages (prefixes) its modules may import; anything else of the project is refused
ALLOWED: dict[str, tuple[str, ...]] = {
    "base": (),
    "orchestration.store": ("orchestration.store", *BASE),
    "orchestration.domain": ("orchestration.domain", "orchestration.store", *BASE),
    "orchestration.engine": (
        "orchestration.engine",
        "orchestration.domain",
        "orchestration.store",
        "handlers",
        *BASE,
    ),
    "orchestration.read": ("orchestration.read", "orchestration.domain", "orchestration.store", *BASE),
    "orchestration.services": (
        "orchestration.services",
        "orchestration.engine",
        "orchestration.read",
        "orchestration.domain",
        "orchestration.store",
        *BASE,
    ),
    "orchestration.tools": PROJECT,
    "webapp": ("webapp", "orchestration.services", "orchestration.domain", *BASE),
    "handlers": ("handlers",),
    "handlers.api": ("handlers", "orchestration.domain.calendar", *BASE),
}
# Libraries that belong to one layer: the web never touches the database or the engine directly, and
# nothing below the web touches Flask.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "webapp": ("sqlalchemy", "SpiffWorkflow", "alembic", "psycopg"),
    "orchestration": ("flask", "flask_login", "flask_wtf", "jinja2"),
    "handlers": ("flask", "sqlalchemy", "SpiffWorkflow"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> str:
    if module in BASE or module == "orchestration":
        return "base"
    matches = [layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")]
    return max(matches, key=len)


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _within(node.module, PROJECT):
                # `from orchestration.domain import calendar` imports orchestration.domain.calendar
                found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, node.module))
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = sorted(
    p for package in PROJECT for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path: Path) -> None:
    module = _module_name(path)
    allowed = ALLOWED[_layer(module)]
    top = module.split(".")[0]
    broken = []
    for line, name in _imports(path):
        if _within(name, PROJECT) and not _within(name, allowed):
            broken.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
        if _within(name, FORBIDDEN_LIBRARIES.get(top, ())):
            broken.append(f"{path.relative_to(ROOT)}:{line} imports the library {name}")
    assert not broken, "\n".join(broken)


def test_the_rule_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself: an upward import in a store module is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from webapp.context import services\nfrom orchestration.errors import Conflict\n")
    names = [name for _, name in _imports(bad)]
    assert names == ["webapp.context.services", "orchestration.errors.Conflict"]
    allowed = ALLOWED[_layer("orchestration.store.models")]
    assert not _within(names[0], allowed) and _within(names[1], allowed)
