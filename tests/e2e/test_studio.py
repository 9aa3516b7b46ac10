"""The studio in headless Chromium: sign in with a one-time password and be led to replace it
before anything else, create an exhibition, edit its title (by
keyboard), see the missing translation flagged and the change in the audit view, publish it
and see it in the public viewer; in English and Swedish; axe-core finds no serious issue on
its pages."""

from __future__ import annotations

import pytest
from PIL import Image

from .conftest import wait_for, wait_ready
from .studio_session import add_curator, sign_in
from .test_desktop import serious_axe_violations

NAME, PASSWORD = "e2e-curator", "e2e-studio-password"
OWN_PASSWORD = "the-curators-own-password"


@pytest.fixture(scope="module")
def curator(server) -> str:
    # A fresh account, as `vrculture curators add` leaves it: PASSWORD is its one-time one.
    return add_curator(server, NAME, PASSWORD, one_time=True)


def test_sign_in_create_an_exhibition_and_edit_its_title(server, curator, new_page):
    page = new_page(server.url("/studio/"))
    page.wait_for_url("**/studio/sign-in")
    assert serious_axe_violations(page) == []
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#sign-in-error:has-text('Wrong name or password')")
    sign_in(page, NAME, PASSWORD)
    page.wait_for_selector("#who:has-text('e2e-curator')")
    assert page.is_visible("#password-section")  # the one-time password is still in use
    # ... and it opens nothing else: no list, no create form, no other page, no API.
    assert not page.is_visible("#list-section") and not page.is_visible("#create-section")
    assert page.evaluate("document.activeElement.id") == "current-password"
    page.goto(server.url("/studio/exhibitions/e2e-studio"))
    page.wait_for_url("**/studio/")
    page.wait_for_selector("#password-section:not([hidden])")
    status = page.evaluate("fetch('/studio/api/exhibitions').then(r => r.status)")
    assert status == 403
    assert serious_axe_violations(page) == []
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_role("button", name="Save password").click()
    page.wait_for_selector("#password-status:has-text('must differ')")
    page.get_by_label("New password").fill(OWN_PASSWORD)
    page.get_by_label("New password").press("Enter")
    page.wait_for_selector("#create-section", state="visible")  # the whole studio now
    assert not page.is_visible("#password-section")
    page.wait_for_selector("#exhibition-list li:has-text('No exhibitions yet')")

    page.get_by_label("Id (a-z, 0-9, - and _)").fill("e2e-studio")
    page.get_by_label("Title (sv)").fill("Studions utställning")
    page.get_by_label("Description (sv)").fill("Gjord i studion.")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/studio/exhibitions/e2e-studio")
    page.wait_for_selector("#exhibition-heading:has-text('Studions utställning')")
    # English title and description are missing: flagged next to their fields.
    page.wait_for_selector("#ex-title-en-missing")
    assert page.is_visible("#ex-description-en-missing")

    title_en = page.get_by_label("Title (en)")
    title_en.focus()
    page.keyboard.type("The studio's exhibition")
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_selector("#edit-status:has-text('Saved')")
    assert not page.is_visible("#ex-title-en-missing")
    assert page.is_visible("#ex-description-en-missing")
    page.wait_for_selector("#audit-table tbody tr:has-text('edited the exhibition texts')")
    toml = (server.data_dir / "studio" / "exhibitions" / "e2e-studio" / "collection.toml")
    assert "The studio's exhibition" in toml.read_text(encoding="utf-8")
    assert serious_axe_violations(page) == []

    # An object arrives (as the uploads part writes it), then the curator publishes.
    folder = toml.parent
    Image.new("RGB", (64, 48), (180, 40, 30)).save(folder / "sources" / "portratt.png")
    with open(toml, "a", encoding="utf-8") as f:
        f.write('\n[[objects]]\nid = "portratt"\nsource = "sources/portratt.png"\n'
                'title = { sv = "Porträtt" }\nrights = "CC0-1.0"\nheight_m = 0.5\n')
    page.reload()
    page.wait_for_selector("#obj-portratt-title-en-missing")  # flagged on the object too
    page.get_by_role("button", name="Publish").click()
    page.wait_for_selector("#publish-status:has-text('Published version')")
    page.wait_for_selector("#versions-table tbody tr:has-text('shown to visitors')")
    visitor = new_page(server.url("/"))
    # The server swaps the new exhibition in at its next poll of the data folder.
    wait_for(visitor, "fetch('/api/exhibitions/e2e-studio').then(r => r.ok)")
    visitor.goto(server.url("/exhibitions/e2e-studio"))
    wait_ready(visitor, first_frame=False)
    title = visitor.evaluate(
        "fetch('/api/exhibitions/e2e-studio').then(r => r.json()).then(m => m.title.en)")
    assert title == "The studio's exhibition"

    page.select_option("#ui-lang", "sv")
    page.wait_for_selector("label[for='ex-title-sv']:has-text('Titel (sv)')")
    assert page.evaluate("document.documentElement.lang") == "sv"
    page.wait_for_selector("#audit-table tbody tr:has-text('ändrade utställningens texter')")
    assert page.is_visible("text=Ändringar")
    assert page.errors == []


def test_a_visitor_without_a_session_never_sees_the_studio(server, curator, new_page):
    page = new_page(server.url("/studio/exhibitions/e2e-studio"))
    page.wait_for_url("**/studio/sign-in")
    status = page.evaluate("fetch('/studio/api/exhibitions').then(r => r.status)")
    assert status == 401
