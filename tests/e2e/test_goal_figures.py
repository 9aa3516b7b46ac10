"""The demo's smart exhibits show their goal figures, computed by the server, in Swedish and
English with each language's number format whatever the browser's locale (here en-US)."""

from __future__ import annotations

import json
import re
import urllib.request
from decimal import ROUND_HALF_UP, Decimal

from .conftest import TIMEOUT_MS, state, wait_for, wait_ready
from .test_demo import post


def formatted(value: float, lang: str, digits: int = 1) -> str:
    """As Intl.NumberFormat(lang, {maximumFractionDigits: digits}) writes a value below 1000:
    the exact binary value rounded half away from zero (ECMA-402), then the language's comma."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    text = format(exact, "f").rstrip("0").rstrip(".") if digits else format(exact, "f")
    return text.replace(".", ",") if lang == "sv" else text


def server_figure(server, feed: str) -> dict:
    with urllib.request.urlopen(server.url(f"/api/feeds/{feed}/figures"), timeout=10) as res:
        return json.loads(res.read())["figures"][0]


def test_the_lamp_exhibit_shows_the_energy_saved_in_sv_and_en(server, new_page):
    demo = server.demo.manifest
    lamp = next(s for s in demo["smart_exhibits"] if s["kind"] == "street-lighting")
    feed = lamp["feeds"][0]
    page = new_page(server.url(f"/exhibitions/{demo['id']}?lang=en"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'", timeout=TIMEOUT_MS)
    # A lamp of 1 MW at 1 % for 610 s: 167.75 kWh saved against always on, far more than any
    # other test's readings of this feed add (and not a whole number: a decimal separator shows)
    t0 = server.clock() - 670  # within this month whatever the date: the clock is fixed
    for t in (t0, t0 + 610):
        post(server, feed, {"t": t, "lamp": "E2E-1", "presence": False, "level": 1,
                            "power_w": 10000, "rated_w": 1_000_000})
    # pushed by the room: this page never asks again after the panel is open
    wait_for(page, f"(viewerState.figures[{json.dumps(feed)}]?.[0]?.value ?? 0) > 100")
    figure = server_figure(server, feed)
    wait_for(page, f"viewerState.figures[{json.dumps(feed)}][0].value === "
                           f"{json.dumps(figure['value'])}")
    page.evaluate(f"viewer.select({json.dumps(lamp['id'])})")
    page.wait_for_selector("#panel .goal-figure")
    english = page.evaluate("document.querySelector('#panel .goal-figure').textContent")
    assert re.fullmatch(r"Energy saved since [A-Z][a-z]{2} 1: .+ kWh \(.+ kg CO₂e\)", english)
    assert english.startswith("Energy saved since Jun 1: ")  # the server's clock: June 2026
    assert f": {formatted(figure['value'], 'en')} kWh (" in english, english
    assert f"({formatted(figure['co2_kg'], 'en')} kg CO₂e)" in english
    how = page.evaluate("document.querySelector('#panel .goal-how').textContent")
    assert how.startswith("How is this computed?") and "59 g CO₂e per kWh" in how, how
    # the VR panel shows the same line
    page.evaluate(f"viewerTest.app.vrPanel.show({json.dumps(lamp['id'])})")
    assert state(page, "viewerState.panel.vrFigures") == [english]

    swedish_page = new_page(server.url(f"/exhibitions/{demo['id']}?lang=sv&room=0"))
    wait_ready(swedish_page)
    swedish_page.evaluate(f"viewer.select({json.dumps(lamp['id'])})")
    wait_for(swedish_page,
        "document.querySelector('#panel .goal-figure')?.textContent.includes('kWh')")
    figure = server_figure(server, feed)
    swedish = swedish_page.evaluate("document.querySelector('#panel .goal-figure').textContent")
    # Swedish short months have 3 letters and a point (dec.) or 4 letters (juni, juli, mars)
    assert re.fullmatch(r"Sparad energi sedan 1 [a-zåäö]{3,4}\.?: .+ kWh \(.+ kg CO₂e\)", swedish)
    assert swedish.startswith("Sparad energi sedan 1 juni: ")
    assert f": {formatted(figure['value'], 'sv')} kWh (" in swedish, (swedish, figure["value"])
    assert "," in swedish.split(":")[1]  # a decimal comma, not the en-US browser's point
    how = swedish_page.evaluate("document.querySelector('#panel .goal-how summary').textContent")
    assert how == "Hur räknas det?"
    assert page.errors == [] and swedish_page.errors == []


def test_every_demo_smart_exhibit_shows_a_figure_for_its_goal(server, new_page):
    demo = server.demo.manifest
    page = new_page(server.url(f"/exhibitions/{demo['id']}?lang=sv&room=0"))
    wait_ready(page)
    expected = {"street-lighting": "Sparad energi sedan 1 ",
                "smart-bin": "Undvikna tömningsturer sedan 1 ",
                "eye-tracking-screening": "Screeningar denna termin ("}
    for exhibit in demo["smart_exhibits"]:
        if exhibit["kind"] not in expected:
            continue
        page.evaluate(f"viewer.select({json.dumps(exhibit['id'])})")
        wait_for(page,
            f"document.querySelectorAll('#panel .goal-figure').length === "
            f"{len(exhibit['feeds'])} && viewerState.panel.id === {json.dumps(exhibit['id'])}")
        lines = page.evaluate(
            "[...document.querySelectorAll('#panel .goal-figure')].map((p) => p.textContent)")
        assert all(line.startswith(expected[exhibit["kind"]]) for line in lines), lines
