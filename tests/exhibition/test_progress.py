"""Overall build/convert progress: objects done of the total, the percentage and the time left
from the pace so far (cache hits excluded), as one redrawn line on a terminal and plain lines
elsewhere; quiet writes nothing. The clock and the terminal are injected."""

from __future__ import annotations

import io

from vrculture.exhibition.progress import CLEAR_LINE, Progress, format_left


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_give_the_count_the_percentage_and_the_time_left() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(4, stream, clock=clock)
    clock.now += 10
    progress.step("lada (lada.obj)", "converted in 10.0 s")
    clock.now += 20
    progress.step("tavla (tavla.png)", "converted in 20.0 s")
    clock.now += 5
    progress.step("stol (stol.ply)", "FAILED: not a mesh")
    progress.step("vas (vas.glb)", "converted in 1.0 s")
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "vrculture build: [1/4] 25% lada (lada.obj): converted in 10.0 s (about 0:30 left)",
        # 30 s for 2: 15 s each for the 2 still to do
        "vrculture build: [2/4] 50% tavla (tavla.png): converted in 20.0 s (about 0:30 left)",
        "vrculture build: [3/4] 75% stol (stol.ply): FAILED: not a mesh (about 0:12 left)",
        "vrculture build: [4/4] 100% vas (vas.glb): converted in 1.0 s",
    ]


def test_cache_hits_count_as_done_but_not_towards_the_pace() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(4, stream, clock=clock)
    progress.step("a", "cached", cached=True)
    progress.step("b", "cached", cached=True)
    assert progress.percent == 50 and progress.seconds_left() is None
    clock.now += 60
    progress.step("c", "converted in 60.0 s")
    # One object took work in 60 s; one is left. Counting the cache hits would say 20 s.
    assert progress.seconds_left() == 60
    lines = stream.getvalue().splitlines()
    assert lines[0] == "vrculture build: [1/4] 25% a: cached"  # no pace known yet
    assert lines[2] == "vrculture build: [3/4] 75% c: converted in 60.0 s (about 1:00 left)"


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    clock, terminal = Clock(), Terminal()
    progress = Progress(3, terminal, clock=clock, prefix="vrculture convert")
    progress.begin("spot.obj")
    assert terminal.getvalue() == CLEAR_LINE + "[" + "." * 24 + "] 0/3   0% " + \
        "spot.obj".ljust(32) + " ETA --:--"
    clock.now += 90
    progress.step("spot.obj", "ok")
    progress.begin("box.glb")
    assert progress.line() == "[" + "#" * 8 + "." * 16 + "] 1/3  33% " + \
        "box.glb".ljust(32) + " ETA 3:00"
    progress.begin("/museum/scans/2026/december/the-long-name/box.glb")
    assert "] 1/3  33% …/december/the-long-name/box.glb ETA 3:00" in progress.line()
    progress.begin("box.glb")
    progress.note("[2/3] box.glb: warning: no texture")
    clock.now += 30
    progress.step("box.glb", "FAILED: not a mesh")
    progress.finish()
    text = terminal.getvalue()
    # Lines that stay are written over a cleared live line, which is drawn again below them.
    assert CLEAR_LINE + "[2/3] box.glb: warning: no texture\n" + CLEAR_LINE + "[" in text
    assert CLEAR_LINE + "  box.glb: FAILED: not a mesh\n" in text
    assert text.endswith("] 2/3  66% " + "box.glb".ljust(32) + " ETA 1:00\n")
    assert text.count("\n") == 3  # the warning, the failure, the end: no line per object


def test_quiet_writes_nothing_and_an_empty_build_is_done() -> None:
    stream = Terminal()
    progress = Progress(2, stream, quiet=True, clock=Clock())
    progress.begin("a")
    progress.step("a", "converted")
    progress.finish()
    assert stream.getvalue() == "" and progress.percent == 50
    assert Progress(0, io.StringIO(), clock=Clock()).percent == 100


def test_time_left_is_minutes_and_seconds_then_hours() -> None:
    assert format_left(0) == "0:00"
    assert format_left(59.6) == "1:00"
    assert format_left(754) == "12:34"
    assert format_left(3 * 3600 + 5 * 60 + 7) == "3:05:07"
    assert format_left(-3) == "0:00"
