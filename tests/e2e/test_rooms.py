"""Rooms in the browser: avatars of other visitors, guided tours, live sensor readings,
reconnecting after a lost WebSocket."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

from .conftest import state, wait_for, wait_ready


def open_room_page(new_page, server, query: str = ""):
    page = new_page(server.url(f"/exhibitions/e2e{query}"))
    wait_ready(page)
    wait_for(page, "viewerState.ws.status === 'open'")
    return page


def test_two_visitors_see_each_others_avatar_move(server, new_page):
    anna = open_room_page(new_page, server, "?name=Anna")
    bo = open_room_page(new_page, server, "?name=Bo")
    anna_id = state(anna, "viewerState.ws.selfId")
    bo_id = state(bo, "viewerState.ws.selfId")
    assert anna_id != bo_id
    # Bo's avatar shows up at the entrance in Anna's view, and follows Bo when he walks
    wait_for(bo, "viewerState.ws.status === 'open'")
    wait_for(anna, f"viewerState.avatarPositions[{bo_id}] !== undefined")
    assert bo.evaluate("viewer.teleport(1.5, -2.0)") is True
    wait_for(anna,
        f"(p => p && Math.abs(p.x - 1.5) < 0.05 && Math.abs(p.z + 2.0) < 0.05"
        f" && Math.abs(p.y - 1.6) < 0.05)(viewerState.avatarPositions[{bo_id}])")
    assert state(anna, "viewerState.avatars") >= 1
    # and the other way round
    assert anna.evaluate("viewer.teleport(-1.0, -3.0)") is True
    wait_for(bo,
        f"(p => p && Math.abs(p.x + 1.0) < 0.05 && Math.abs(p.z + 3.0) < 0.05)"
        f"(viewerState.avatarPositions[{anna_id}])")
    # the avatar in the scene eases towards the newest pose (interpolation, not a jump)
    wait_for(anna, f"""(() => {{
        const a = viewerTest.app.avatars.byId.get({bo_id});
        const h = a && a.parts.head;
        return h && h.visible && Math.abs(h.position.x - 1.5) < 0.01
            && Math.abs(h.position.z + 2) < 0.01;
    }})()""")
    assert anna.errors == [] and bo.errors == []


def test_a_guide_leads_a_tour_and_it_moves_the_follower(server, new_page):
    guide = open_room_page(new_page, server, "?name=Guide")
    # the guide types the code the curator issued (`vrculture guides add`) into the page
    guide.fill("#guide-code", server.guide_code)
    guide.click("#lead-button")
    wait_for(guide, "viewerState.ws.guide === true && viewerState.ws.status === 'open'")
    guide_id = state(guide, "viewerState.ws.selfId")
    follower = open_room_page(new_page, server, "?name=Follower")
    wait_for(follower,
        f"viewerState.visitors.some(v => v.id === {guide_id} && v.guide)")
    # the follower joins the guide with the button the page offers
    follower.click(f"#guides button[data-guide='{guide_id}']")
    guide.evaluate("viewer.startTour('highlights')")
    wait_for(follower,
        "viewerState.tour.id === 'highlights' && viewerState.tour.stop === 0")
    wait_for(follower, "viewerState.tour.following === true")
    wait_for(follower,
        "Math.abs(viewerState.viewerPos.x) < 0.05"
        " && Math.abs(viewerState.viewerPos.z - 0.5) < 0.05")
    s = state(follower)
    assert s["selected"] == "red-vase"
    assert s["tour"]["narration"] == "Here stands the red vase."
    assert follower.is_visible("#tour-bar")
    guide.evaluate("viewer.nextStop()")
    wait_for(follower, "viewerState.tour.stop === 1")
    wait_for(follower,
        "Math.abs(viewerState.viewerPos.x + 2.5) < 0.05"
        " && Math.abs(viewerState.viewerPos.z - 0.5) < 0.05")
    assert state(follower, "viewerState.selected") == "green-bowl"
    # the follower's connection drops; back in the room it follows the same guide again
    follower.evaluate("viewerTest.disconnectRoom()")
    wait_for(follower, "viewerState.ws.connects === 2 && viewerState.ws.status === 'open'")
    guide.evaluate("viewer.previousStop()")
    wait_for(follower, "viewerState.tour.stop === 0 && viewerState.tour.following")
    wait_for(follower,
        "Math.abs(viewerState.viewerPos.x) < 0.05"
        " && Math.abs(viewerState.viewerPos.z - 0.5) < 0.05")
    guide.evaluate("viewer.endTour()")
    wait_for(follower, "viewerState.tour.id === null")


def post_reading(server, feed: str, reading: dict) -> int:
    req = urllib.request.Request(
        server.url(f"/api/feeds/{feed}/readings"), data=json.dumps(reading).encode(),
        method="POST", headers={"Authorization": f"Bearer {server.feed_tokens[feed]}",
                                "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status


def test_a_posted_sensor_reading_changes_the_exhibit_and_its_panel(server, new_page):
    page = open_room_page(new_page, server)
    page.evaluate("viewer.select('street-lamp')")
    page.wait_for_selector("#panel .live-value")
    now = server.clock()
    assert post_reading(server, "e2e-lamp", {"t": now, "lamp": "L1", "presence": True,
                                           "level": 90, "power_w": 40}) == 201
    wait_for(page, "viewerState.smart['street-lamp']?.value === 90")
    bright = state(page, "viewerState.smart['street-lamp'].emissiveIntensity")
    wait_for(page,
        "document.querySelector('#panel .live-value').textContent.includes('90')")
    assert post_reading(server, "e2e-lamp", {"t": now + 1, "lamp": "L1", "presence": False,
                                           "level": 10, "power_w": 5}) == 201
    wait_for(page, "viewerState.smart['street-lamp']?.value === 10")
    assert state(page, "viewerState.smart['street-lamp'].emissiveIntensity") < bright
    # A neighbouring lamp on the same street feed does not drive the exhibit's lamp post.
    assert post_reading(server, "e2e-lamp", {"t": now + 2, "lamp": "L2", "presence": True,
                                           "level": 100, "power_w": 60}) == 201
    assert post_reading(server, "e2e-bin", {"t": now, "bin": "B1", "fill_pct": 40,
                                          "compactions": 1, "emptied": False}) == 201
    wait_for(page, "viewerState.smart['smart-bin']?.fillScale === 0.4")
    assert state(page, "viewerState.smart['street-lamp'].value") == 10


def test_the_page_and_the_server_agree_on_the_fixed_date(server, new_page):
    """Neither reads the machine's clock or zone (conftest.py): a reading posted "now" is now
    for the page too, on any day the tests run."""
    page = new_page(server.url("/healthz"))
    page_now = page.evaluate("Date.now()") / 1000
    assert abs(page_now - server.clock()) < 60, (page_now, server.clock())
    day = datetime.fromtimestamp(server.clock(), UTC).date().isoformat()
    assert page.evaluate("new Date().toISOString().slice(0, 10)") == day == "2026-06-15"
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Europe/Stockholm"


def test_a_lost_room_connection_reconnects_and_the_exhibition_keeps_working(server, new_page):
    page = open_room_page(new_page, server)
    assert state(page, "viewerState.ws.connects") == 1
    page.evaluate("viewerTest.disconnectRoom()")
    wait_for(page, "viewerState.ws.status !== 'open'")
    assert page.evaluate("viewer.teleport(0.5, -2)") is True  # works alone meanwhile
    wait_for(page, "viewerState.ws.connects === 2 && viewerState.ws.status === 'open'")
    assert state(page, "viewerState.ws.reconnects") >= 1


def test_a_visitor_in_vr_shows_head_and_both_hands_to_the_others(server, new_page):
    headset = new_page(server.url("/exhibitions/e2e?name=Quest"), quest=True)
    wait_ready(headset)
    wait_for(headset, "viewerState.ws.status === 'open' && viewerState.xrSupported")
    quest_id = state(headset, "viewerState.ws.selfId")
    desktop = open_room_page(new_page, server, "?name=Desk")
    assert headset.evaluate("viewer.enterVR()") is True
    wait_for(headset, "viewerState.xrFrames > 5")
    headset.evaluate("""xrDevice.remote.dispatch('set_transform',
        {device: 'controller-left', position: {x: -0.3, y: 1.1, z: -0.3}})""")
    wait_for(desktop, f"""(() => {{
        const a = viewerTest.app.avatars.byId.get({quest_id});
        return a && a.parts.head.visible && a.parts.left.visible && a.parts.right.visible
            && Math.abs(a.parts.left.position.x + 0.3) < 0.02
            && Math.abs(a.parts.left.position.z - 1.7) < 0.02;
    }})()""")


def test_a_wrong_guide_code_is_refused_and_said_so(server, new_page):
    page = open_room_page(new_page, server, "?name=Pretender")
    page.fill("#guide-code", "not-a-code")
    page.click("#lead-button")
    wait_for(page, "document.querySelector('#status .text').textContent"
                           ".includes('not valid')")
    wait_for(page, "viewerState.ws.status === 'open'")
    assert state(page, "viewerState.ws.guide") is False
