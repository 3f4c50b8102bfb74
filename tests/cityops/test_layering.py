"""The packages point one way: the dashboard on top, everything it shows from below it.

Read from the source (no imports run), so a new arrow upwards fails here with the file and line
rather than as an import cycle or a report that suddenly needs Dash.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cityops.settings import PROJECT_ROOT

# Each package and the project packages it may import. cityops's supervisor (``cityops/__main__.py``)
# starts every part and so may import them all; the rest of cityops (settings, local servers) is the base.
MAY_IMPORT: dict[str, set[str]] = {
    "cityops": set(),
    "store": {"cityops"},
    "i18n": {"alerts"},  # the words for the lifecycle's own enums
    "layers": {"cityops", "store"},
    "ingest": {"cityops", "store", "layers"},
    "alerts": {"cityops", "store", "layers"},
    "reports": {"cityops", "store", "i18n", "alerts", "ingest"},  # ingest: the dead-letter reasons it counts
    "simulator": {"cityops", "store", "layers", "alerts", "ingest", "i18n"},
    "dashboard": {"cityops", "store", "i18n", "layers", "alerts", "reports", "ingest"},
}
TOP = {"cityops/__main__.py"}
PACKAGES = set(MAY_IMPORT)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, name) for line, name in found if name in PACKAGES]


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    wrong = []
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        rel = path.relative_to(PROJECT_ROOT).as_posix()
        if rel in TOP:
            continue
        wrong += [f"{rel}:{line} imports {name}" for line, name in _imports(path)
                  if name != package and name not in MAY_IMPORT[package]]
    assert wrong == []


def test_the_layers_have_no_cycle() -> None:
    seen: dict[str, int] = {}

    def depth(package: str, path: tuple[str, ...] = ()) -> int:
        assert package not in path, f"cycle: {' → '.join((*path, package))}"
        if package not in seen:
            seen[package] = 1 + max((depth(p, (*path, package)) for p in MAY_IMPORT[package]), default=0)
        return seen[package]

    for package in MAY_IMPORT:
        depth(package)
    assert max(seen, key=lambda p: seen[p]) == "dashboard"  # on top of everything
