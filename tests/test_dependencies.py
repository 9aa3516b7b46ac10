"""pyproject.toml declares exactly what the code imports: nothing missing, nothing unused.

A package imported but not declared works here only because something else pulled it in; one
declared but never imported costs every install for nothing (pygltflib, websockets and trimesh
were declared as runtime dependencies and never imported by vrculture).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Dev dependencies run as commands, load as pytest plugins or are type stubs for mypy; nothing
# imports them by name.
NOT_IMPORTED_DEV = {"ruff", "pytest-aiohttp", "mypy", "types-jsonschema"}
# Runtime data packages that the standard library loads by itself: zoneinfo reads tzdata's zone
# files where the system has none.
NOT_IMPORTED_RUNTIME = {"tzdata"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return _normalise(match.group(0))


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    extras = {name: {_requirement_name(r) for r in reqs}
              for name, reqs in project.get("optional-dependencies", {}).items()}
    return runtime, extras


def _local_modules() -> set[str]:
    files = {p.stem for folder in ("tests", "tools") for p in (ROOT / folder).rglob("*.py")}
    packages = {p.parent.name for p in (ROOT / "tests").rglob("__init__.py")}
    return files | packages


def _imported_distributions(*folders: str) -> set[str]:
    """Distributions (normalised names) of the third-party modules imported under `folders`."""
    modules: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - _local_modules() - {"vrculture"}
    owners = packages_distributions()
    found = set()
    for module in third_party:
        # Not installed here (an optional extra): its distribution is named like the module.
        found.update(_normalise(d) for d in owners.get(module, [module]))
    return found


def test_runtime_dependencies_are_exactly_what_vrculture_imports() -> None:
    runtime, extras = _declared()
    optional = set().union(*(reqs for name, reqs in extras.items() if name != "dev"))
    imported = _imported_distributions("vrculture")
    assert imported - runtime - optional == set(), "imported but not declared"
    assert runtime - imported - NOT_IMPORTED_RUNTIME == set(), \
        "declared but never imported by vrculture"


def test_dev_dependencies_are_what_the_tests_and_tools_import() -> None:
    runtime, extras = _declared()
    declared = runtime.union(*extras.values())
    imported = _imported_distributions("tests", "tools")
    assert imported - declared == set(), "imported by tests or tools but not declared"
    assert extras["dev"] - imported - NOT_IMPORTED_DEV == set(), "dev dependency never used"
