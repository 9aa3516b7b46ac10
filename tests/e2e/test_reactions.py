"""Reactions between visitors in one room: sent from the desktop bar and from the VR menu, shown
above the sender's avatar for a few seconds and announced in a live region."""

from __future__ import annotations

from .conftest import state, wait_for
from .test_comfort import HAND, open_menu
from .test_rooms import open_room_page
from .test_xr import enter_vr

SHOWN_ABOVE = """([id, emoji]) => {
    const a = viewerTest.app.avatars.byId.get(id);
    return !!(a && a.reaction && a.reaction.emoji === emoji
              && a.reaction.sprite.parent === a.parts.head && a.parts.head.visible);
}"""


def test_a_reaction_from_the_bar_shows_above_the_senders_avatar_and_is_announced(server,
                                                                                  new_page):
    anna = open_room_page(new_page, server, "?name=Anna")
    bo = open_room_page(new_page, server, "?name=Bo")
    anna_id = state(anna, "viewerState.ws.selfId")
    wait_for(bo, f"viewerState.avatarPositions[{anna_id}] !== undefined")

    anna.wait_for_selector("#reactions:not([hidden])")
    buttons = anna.eval_on_selector_all(
        "#reactions button", "bs => bs.map(b => [b.dataset.emoji, b.getAttribute('aria-label')])")
    assert [e for e, _ in buttons] == ["👍", "❤️", "👏", "😮", "😂", "❓"]
    assert dict(buttons)["👍"] == "Thumbs up"
    anna.click("#reactions button[data-emoji='👍']")

    wait_for(bo, f"viewerState.reactions.some(r => r.id === {anna_id} && r.emoji === '👍')")
    assert state(bo, "viewerState.reactions")[-1]["shown"] is True
    assert bo.evaluate(SHOWN_ABOVE, [anna_id, "👍"]) or bo.evaluate(
        f"!viewerTest.app.avatars.byId.get({anna_id}).reaction")  # already gone on a slow machine
    assert bo.inner_text("#reaction-live") == "Anna reacted 👍"
    assert bo.get_attribute("#reaction-live", "aria-live") == "polite"
    # the sender is not told its own reaction back; after a few seconds it goes away
    assert state(anna, "viewerState.reactions") == []
    wait_for(bo, f"!viewerTest.app.avatars.byId.get({anna_id}).reaction")

    # only the fixed set is sent, and a burst of clicks stays within the room's rate limit
    assert anna.evaluate("viewer.react('💩')") is False
    anna.evaluate("() => { for (let i = 0; i < 20; i++) viewer.react('👏'); }")
    wait_for(bo, f"viewerState.reactions.some(r => r.id === {anna_id} && r.emoji === '👏')")
    s = state(anna)
    assert s["ws"]["status"] == "open" and "error" not in s["ws"]["messages"]
    assert s["reactionsSent"] == 2
    assert anna.errors == [] and bo.errors == []


def test_a_reaction_from_the_vr_menu_reaches_the_other_visitor(server, new_page):
    bo = open_room_page(new_page, server, "?name=Bo")
    anna = new_page(server.url("/exhibitions/e2e?name=Anna"), quest=True)
    enter_vr(anna)
    wait_for(anna, "viewerState.ws.status === 'open'")
    anna_id = state(anna, "viewerState.ws.selfId")
    open_menu(anna)
    target = anna.evaluate("""(emoji) => {
        const p = viewerTest.app.vrPanel, v = viewerTest.app.viewer;
        const b = p.buttons.find((x) => x.action.type === 'reaction' && x.action.emoji === emoji);
        if (!b) throw new Error(`no reaction button for ${emoji}`);
        const size = p.mesh.geometry.parameters.width;
        const local = p.mesh.position.clone().set(
            ((b.x + b.w / 2) / 1024 - 0.5) * size, (0.5 - (b.y + b.h / 2) / 1024) * size, 0);
        p.mesh.updateMatrixWorld(true);
        v.rig.updateMatrixWorld(true);
        const w = v.rig.worldToLocal(p.mesh.localToWorld(local));
        return {x: w.x, y: w.y, z: w.z};
    }""", "👏")
    anna.evaluate("""async ([position, target]) => {
        await xrDevice.remote.dispatch('set_transform', {device: 'controller-right', position});
        await xrDevice.remote.dispatch('look_at', {device: 'controller-right', target});
    }""", [HAND, target])
    wait_for(anna, "viewerState.xrHover.right === 'panel'")
    frames = state(anna, "viewerState.xrFrames")
    wait_for(anna, f"viewerState.xrFrames > {frames + 3}")
    # the trigger stays down until the viewer has seen it (a loaded machine draws few XR frames)
    anna.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 1)")
    wait_for(anna, "viewerState.panel.lastHit !== undefined")
    anna.evaluate("xrDevice.controllers.right.updateButtonValue('trigger', 0)")
    wait_for(anna, "viewerState.panel.lastReaction === '👏'")
    wait_for(bo, f"viewerState.reactions.some(r => r.id === {anna_id} && r.emoji === '👏')")
    # above Anna's avatar (a loaded machine may take longer than the few seconds it stays to
    # get here, so the log says where it went)
    got = [r for r in state(bo, "viewerState.reactions") if r["id"] == anna_id]
    assert got[-1]["emoji"] == "👏" and got[-1]["shown"] is True
    assert bo.inner_text("#reaction-live") == "Anna reacted 👏"
    assert anna.errors == [] and bo.errors == []
