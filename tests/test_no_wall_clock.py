"""No test reads the wall clock, the machine's time zone or its locale: each injects a clock
(tests/fixed_clock.py) so that it passes on any date, weekday and zone. A test that failed on
weekends once cost a release.

The check reads the syntax tree of every Python file under tests/, so the names below (which
are strings here, never calls) cannot trip it. Wait deadlines use time.monotonic() or
time.perf_counter(), which say nothing about the date, and are allowed.

The product's own parts read the clock too: the app (sessions, reading windows, goal-figure
periods, history stamps), the studio's uploads, the stores. Each takes a `clock` that defaults
to the wall clock, so a test that builds one must hand it a clock; the second check below sees
a factory called without one.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# module.function(...) that reads the clock whatever its arguments
ALWAYS = {("time", "time"), ("time", "time_ns"), ("datetime", "now"), ("datetime", "utcnow"),
          ("datetime", "today"), ("date", "today")}
# module.function() that reads the clock (or the local zone) only without an argument
WITHOUT_ARGUMENT = {("time", "localtime"), ("time", "gmtime"), ("time", "ctime"),
                    ("time", "asctime")}
# module.function(...) that depends on the machine's time zone or locale
LOCAL_ZONE = {("time", "mktime"), ("time", "tzset"), ("locale", "setlocale"),
              ("locale", "getlocale"), ("locale", "localeconv")}
# `from time import time` and the like: a bare call then reads the clock unseen
IMPORTED = {("time", "time"), ("time", "time_ns"), ("time", "localtime"), ("time", "mktime")}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def wall_clock_reads(source: str, name: str = "<test>") -> list[str]:
    """Each place in `source` that reads the wall clock, zone or locale, as 'line: call'."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if (node.module, alias.name) in IMPORTED:
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner, function = _dotted(node.func.value), node.func.attr
        call = (owner, function)
        bare = not node.args and not node.keywords
        if (call in ALWAYS or call in LOCAL_ZONE or (call in WITHOUT_ARGUMENT and bare)
                or (call == ("time", "strftime") and len(node.args) < 2)
                or (function == "astimezone" and bare)):  # to the machine's zone
            found.append(f"{node.lineno}: {owner}.{function}()")
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


# vrculture's factories whose `clock` defaults to the wall clock (time.time): a test must pass
# one, as `clock=...` or, where the signature allows it, positionally at the given index.
CLOCKED_FACTORIES: dict[str, int | None] = {
    "create_app": None,             # vrculture.server.app: everything the server times
    "setup_studio_uploads": None,   # vrculture.server.studio.uploads: upload stamps and expiry
    "publish": None,                # vrculture.server.publishing: the history's times, which
    "rollback": None,               # also order the versions listed
    "self_signed": None,            # vrculture.server.tls: the certificate's validity
    "Store": 1,                     # vrculture.server.storage / storage_postgres /
    "Store.open": 1,                # store_choice: created, rotated and received times
    "AsyncStore": 1,
    "PostgresStore": None,
    "server_store": 1,
}


def _imported_from_vrculture(tree: ast.Module) -> set[str]:
    """The names a file imports from vrculture (a helper of its own with the same name as a
    factory is not one)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vrculture"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _factory_called(func: ast.expr, imported: set[str]) -> str | None:
    """`name` for name(...), `Name.attr` for Name.attr(...), where Name came from vrculture."""
    if isinstance(func, ast.Name) and func.id in imported:
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            and func.value.id in imported:
        return f"{func.value.id}.{func.attr}"
    return None


def factories_without_clock(source: str, name: str = "<test>") -> list[str]:
    """Each call in `source` of a CLOCKED_FACTORIES factory without a clock, as 'line: call'."""
    tree = ast.parse(source, name)
    imported = _imported_from_vrculture(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        factory = _factory_called(node.func, imported)
        if factory not in CLOCKED_FACTORIES:
            continue
        position = CLOCKED_FACTORIES[factory]
        if any(keyword.arg == "clock" for keyword in node.keywords) or (
                position is not None and len(node.args) > position):
            continue
        if any(keyword.arg is None for keyword in node.keywords):  # **options: cannot tell
            continue
        found.append(f"{node.lineno}: {factory}() without clock=")
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


def test_no_test_reads_the_wall_clock_zone_or_locale() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        reads = wall_clock_reads(path.read_text(encoding="utf-8"), str(path))
        if reads:
            offenders[str(path.relative_to(TESTS))] = reads
    assert not offenders, ("tests read the wall clock (inject one: tests/fixed_clock.py): "
                           f"{offenders}")


def test_every_app_and_clocked_part_a_test_builds_gets_a_clock() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for found in factories_without_clock(path.read_text(encoding="utf-8"), str(path)):
            offenders.append(f"{path.relative_to(TESTS)}:{found}")
    assert not offenders, ("these run the server's parts on the wall clock; pass a clock from "
                           "tests/fixed_clock.py:\n" + "\n".join(offenders))


def test_the_factory_check_sees_a_missing_clock() -> None:
    imports = "from vrculture.server.app import create_app\n"
    assert factories_without_clock(imports + "create_app(config, watch_interval=60)\n") == [
        "2: create_app() without clock="]
    assert factories_without_clock(imports + "app = f(create_app(config))\n")
    assert not factories_without_clock(imports + "create_app(config, clock=FakeClock())\n")
    stores = "from vrculture.server.storage import Store\n"
    assert factories_without_clock(stores + "Store.open(data_dir)\n") == [
        "2: Store.open() without clock="]
    assert not factories_without_clock(stores + "Store.open(data_dir, FakeClock())\n")
    assert not factories_without_clock(stores + "Store.open(data_dir, clock=FakeClock())\n")
    # a helper of the test's own that happens to share the name is not the factory
    assert not factories_without_clock("def create_app(): ...\ncreate_app()\n")


def test_the_check_sees_each_way_of_reading_the_clock() -> None:
    # Built from pieces, as a test file would write them.
    clock_reads = [f"time.{'time'}()", f"datetime.{'now'}(UTC)", f"datetime.datetime.{'now'}()",
                   f"datetime.{'utcnow'}()", f"date.{'today'}()", f"time.{'gmtime'}()",
                   f"time.{'localtime'}()", f"time.{'strftime'}('%Y')", f"dt.{'astimezone'}()",
                   f"from time import {'time'}", f"locale.{'setlocale'}(locale.LC_ALL, '')"]
    for line in clock_reads:
        assert wall_clock_reads(line), line
    allowed = ["time.monotonic()", "time.perf_counter()", "time.gmtime(0)",
               "time.strftime('%Y', time.gmtime(0))", "dt.astimezone(UTC)",
               "datetime.fromtimestamp(0, UTC)", "'time.time()'"]
    for line in allowed:
        assert not wall_clock_reads(line), line
