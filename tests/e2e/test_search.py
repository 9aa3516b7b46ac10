"""The search box over the object list: Swedish compounds, typed by a visitor, through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .bundle_factory import make_bundle
from .conftest import Server, ServerThread, free_port, wait_for, wait_ready
from .test_desktop import serious_axe_violations

BUNNY = {"sv": "Stanfordkaninen", "en": "The Stanford bunny"}


@pytest.fixture(scope="module")
def bunny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The e2e bundle plus the Stanford bunny (a copy of the green bowl's record under another
    name, on the floor to the right), served by its own server so that the shared e2e bundle the
    other tests count on stays as it is."""
    from vrculture.server.config import ServerConfig

    bundle = make_bundle(tmp_path_factory.mktemp("search") / "e2e")
    manifest = bundle.manifest
    bowl = next(o for o in manifest["objects"] if o["id"] == "green-bowl")
    manifest["objects"].append(bowl | {
        "id": "stanford-bunny", "title": BUNNY,
        # "kanin" only inside the compound: the word index alone would not find it
        "description": {"sv": "Gipsavgjutning av datorgrafikens mest kända testmodell.",
                        "en": "A plaster cast of computer graphics' best-known test model."},
        "placement": bowl["placement"] | {"position": [2.5, 0, -1], "mount": "floor",
                                          "plinth_height": 0,
                                          "footprint": [2.2, -1.3, 2.8, -0.7]}})
    path = bundle.root / "exhibition.json"
    path.with_suffix(".tmp").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".tmp").replace(path)

    port = free_port()
    config = ServerConfig(bundles=[bundle.root], data_dir=tmp_path_factory.mktemp("data"),
                          host="127.0.0.1", port=port)
    thread = ServerThread(config, free_port(), {})
    thread.start()
    thread.ready.wait(30)
    if thread.error is not None:
        raise thread.error
    yield Server(port, bundle, config.data_dir, {}, "", thread.loop, thread.museum_port, {},
                 bundle)
    thread.stop()


def test_kanin_finds_the_stanford_bunny_and_choosing_it_selects_it(bunny_server, new_page):
    page = new_page(bunny_server.url("/exhibitions/e2e?room=0"), lang="sv-SE")
    wait_ready(page, first_frame=False)
    page.fill("#search-input", "kanin")
    hit = page.wait_for_selector("#search-results button[data-id=stanford-bunny]")
    assert hit.inner_text().startswith("Stanfordkaninen")
    assert page.inner_text("#search-count") == "1 träff"
    assert page.get_attribute("#search-count", "aria-live") == "polite"
    hit.click()
    wait_for(page, "viewerState.selected === 'stanford-bunny'")
    assert page.inner_text("#panel-title") == "Stanfordkaninen"
    assert page.errors == []


def test_the_hits_work_from_the_keyboard_and_follow_the_language(bunny_server, new_page):
    page = new_page(bunny_server.url("/exhibitions/e2e?room=0"), lang="en-US")
    wait_ready(page, first_frame=False)
    assert page.inner_text("#search-label") == "Search the objects"
    page.focus("#search-input")
    page.keyboard.type("vas")  # "Red vase" (a word's start) in English, "Röd vas" in Swedish
    page.wait_for_selector("#search-results button[data-id=red-vase]")
    assert page.inner_text("#search-count") == "1 match"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.id") == "red-vase"
    page.keyboard.press("Enter")
    wait_for(page, "viewerState.selected === 'red-vase'")
    page.keyboard.press("Escape")  # closes the panel; focus goes back to the hit
    wait_for(page, "viewerState.selected === null")
    assert page.evaluate("document.activeElement.dataset.id") == "red-vase"
    assert serious_axe_violations(page) == []

    page.select_option("#lang", "sv")
    wait_for(page,
        "document.querySelector('#search-label').textContent === 'Sök bland föremålen'")
    wait_for(page, "document.querySelector('#search-count').textContent === '1 träff'")
    assert page.inner_text("#search-results button[data-id=red-vase] .hit-title") == "Röd vas"
    page.fill("#search-input", "ingenting sådant")
    wait_for(page,
        "document.querySelector('#search-count').textContent === 'Inga träffar'")
    assert page.is_hidden("#search-results")
    page.focus("#search-input")
    page.keyboard.press("Escape")  # an Escape in a filled box empties it
    wait_for(page, "document.querySelector('#search-count').textContent === ''")
    assert page.input_value("#search-input") == ""
    assert page.errors == []


def test_a_word_only_in_another_language_is_still_found(bunny_server, new_page):
    # The English texts never say "kanin": the box asks again in every language and shows
    # the hit under its English title.
    page = new_page(bunny_server.url("/exhibitions/e2e?room=0"), lang="en-US")
    wait_ready(page, first_frame=False)
    page.fill("#search-input", "kanin")
    hit = page.wait_for_selector("#search-results button[data-id=stanford-bunny] .hit-title")
    assert hit.inner_text() == BUNNY["en"]
    assert page.inner_text("#search-count") == "1 match"
    assert page.errors == []
