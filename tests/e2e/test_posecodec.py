"""The viewer's JavaScript pose codec agrees with the protocol's Python reference, byte for byte."""

from __future__ import annotations

import math
import random

from vrculture.server.rooms import codec

from .conftest import wait_ready


def test_js_pose_frames_match_the_reference_and_state_frames_decode(server, new_page):
    page = new_page(server.url("/exhibitions/e2e?room=0"))
    wait_ready(page, first_frame=False)
    rng = random.Random(5)
    cases = []
    for _ in range(200):
        q = [rng.gauss(0, 1) for _ in range(4)]
        n = math.sqrt(sum(c * c for c in q))
        q = [c / n for c in q]
        p = [rng.uniform(-70, 70), rng.uniform(-2, 3), rng.uniform(-70, 70)]
        cases.append((p, q))
    # the spec's worked example first
    cases.insert(0, ([1.25, 1.6, -3.0], [0, 0.382683, 0, 0.923880]))
    frames = page.evaluate("""async (cases) => {
        const { encodePoseFrame } = await import('/static/js/posecodec.js');
        return cases.map(([p, q], i) => Array.from(new Uint8Array(encodePoseFrame(
            i % 2 ? { head: { p, q } } : { head: { p, q }, right: { p, q } }))));
    }""", cases)
    for i, ((p, q), got) in enumerate(zip(cases, frames, strict=True)):
        part = (p, q)
        want = codec.encode_pose_frame(part, None, None if i % 2 else part)
        assert bytes(got) == want, (i, p, q)

    parts = {7: {"head": codec.encode_part([1.25, 1.6, -3.0], [0, 0.382683, 0, 0.92388]),
                 "left": codec.encode_part([1.0, 1.2, -2.8], [0, 0, 0, 1])},
             12: {"right": None}}
    state_frame = codec.encode_state_frame(1234, parts)
    decoded = page.evaluate("""async (bytes) => {
        const { decodeStateFrame } = await import('/static/js/posecodec.js');
        const { tick, visitors } = decodeStateFrame(new Uint8Array(bytes).buffer);
        return { tick, visitors: Object.fromEntries(visitors) };
    }""", list(state_frame))
    assert decoded["tick"] == 1234
    seven = decoded["visitors"]["7"]
    assert seven["head"]["p"] == [1.25, 1.6, -3.0] and seven["left"]["p"] == [1.0, 1.2, -2.8]
    assert abs(seven["head"]["q"][1] - 0.3833) < 1e-3
    assert decoded["visitors"]["12"] == {"right": None}
