"""The smart-city exhibits' 3D models, generated so that a collection needs no art for them.

Each builder returns a `Model` (metres, +Y up, standing on y = 0, centred) and the names of the
nodes the viewer animates from sensor readings, keyed by role. Animated parts carry their pivot
in the node's translation so that a scale or rotation in the viewer acts from the right point
(the bin's fill grows from the bin's floor; a gauge needle turns about the dial's centre).
"""

from __future__ import annotations

from vrculture.exhibition.meshes import box, cylinder, merge
from vrculture.pipeline.model import Material, Model, Node

SmartModel = tuple[Model, dict[str, str]]


def _model(materials: list[Material], nodes: list[Node]) -> Model:
    """Parts under one root: the origin stays where the model stands (the lamp's pole base),
    not the centre of its bounding box, and the animated nodes keep their pivots."""
    root = Node("exhibit", children=list(range(len(nodes))))
    return Model(nodes=[*nodes, root], materials=materials, roots=[len(nodes)])


def street_lamp() -> SmartModel:
    """A park lamp post: the head's emissive panel is `lamp_light` (brightness = level %)."""
    steel = Material("lamp_steel", (0.20, 0.22, 0.24, 1.0), metallic_factor=0.7,
                     roughness_factor=0.45)
    light = Material("lamp_light", (1.0, 0.95, 0.82, 1.0), emissive_factor=(1.0, 0.86, 0.62),
                     roughness_factor=0.3)
    sensor = Material("presence_sensor", (0.05, 0.05, 0.06, 1.0), roughness_factor=0.2)
    height, arm = 3.6, 0.7
    pole = merge([
        cylinder(0.16, 0.0, 0.12, 24),
        cylinder(0.07, 0.12, height, 16, top_radius=0.05),
        box((-0.04, height - 0.06, -0.04), (arm, height, 0.04)),
        box((arm - 0.22, height - 0.12, -0.15), (arm + 0.22, height - 0.02, 0.15)),
    ])
    head = box((arm - 0.19, height - 0.14, -0.12), (arm + 0.19, height - 0.12, 0.12), material=1)
    radar = box((0.06, 2.6, -0.05), (0.14, 2.72, 0.05), material=2)
    nodes = [Node("lamp_pole", [pole]), Node("lamp_light", [head]),
             Node("presence_sensor", [radar])]
    return _model([steel, light, sensor], nodes), {
        "pole": "lamp_pole", "light": "lamp_light", "sensor": "presence_sensor"}


def _one_bin(x: float, suffix: str) -> list[Node]:
    w, h, d, t = 0.62, 1.15, 0.58, 0.03
    body = merge([
        box((x - w / 2, 0.0, -d / 2), (x + w / 2, 0.08, d / 2)),                   # floor
        box((x - w / 2, 0.0, -d / 2), (x + w / 2, h, -d / 2 + t)),                 # back
        box((x - w / 2, 0.0, -d / 2), (x - w / 2 + t, h, d / 2)),                  # left
        box((x + w / 2 - t, 0.0, -d / 2), (x + w / 2, h, d / 2)),                  # right
        box((x - w / 2, 0.0, d / 2 - t), (x + w / 2, 0.25, d / 2)),                # front, low
        box((x - w / 2, 0.95, d / 2 - t), (x + w / 2, h, d / 2)),                  # front, top
        box((x - w / 2, h, -d / 2), (x + w / 2, h + 0.05, d / 2)),                 # lid
    ])
    window = box((x - w / 2 + t, 0.25, d / 2 - t), (x + w / 2 - t, 0.95, d / 2 - t / 2),
                 material=1)
    inner_h = h - 0.08 - 0.02
    # Fill geometry spans y 0..inner_h above the node's origin at the bin's inner floor, so a
    # Y scale of fill_pct / 100 grows the waste from the floor up.
    fill = box((x - w / 2 + t + 0.01, 0.0, -d / 2 + t + 0.01),
               (x + w / 2 - t - 0.01, inner_h, d / 2 - t - 0.01), material=2)
    panel = box((x - w / 2 + 0.03, h + 0.05, -d / 2 + 0.03), (x + w / 2 - 0.03, h + 0.08,
                                                             d / 2 - 0.03), material=3)
    return [Node(f"bin_body{suffix}", [body]), Node(f"bin_window{suffix}", [window]),
            Node(f"bin_fill{suffix}", [fill], translation=(0.0, 0.08, 0.0)),
            Node(f"solar_panel{suffix}", [panel])]


def smart_bin(feeds: list[str]) -> SmartModel:
    """Solar compacting bins, one per feed (up to four): `bin_fill` Y scale = fill level 0..1."""
    materials = [
        Material("bin_body", (0.16, 0.33, 0.24, 1.0), metallic_factor=0.3, roughness_factor=0.5),
        Material("bin_window", (0.75, 0.85, 0.9, 0.3), alpha_mode="BLEND", roughness_factor=0.1),
        Material("bin_fill", (0.45, 0.38, 0.28, 1.0), roughness_factor=0.95),
        Material("solar_panel", (0.05, 0.08, 0.2, 1.0), metallic_factor=0.6,
                 roughness_factor=0.25),
    ]
    count = max(1, min(4, len(feeds)))
    pitch = 0.9
    nodes: list[Node] = []
    roles: dict[str, str] = {}
    for index in range(count):
        suffix = "" if index == 0 else f"_{index + 1}"
        nodes += _one_bin((index - (count - 1) / 2) * pitch, suffix)
        if index < len(feeds):
            roles[f"fill:{feeds[index]}"] = f"bin_fill{suffix}"
    roles.update({"fill": "bin_fill", "body": "bin_body", "solar_panel": "solar_panel",
                  "window": "bin_window"})
    return _model(materials, nodes), roles


def screening_station() -> SmartModel:
    """A school's eye-tracking reading station: desk, `screen`, `eye_tracker` bar, stool."""
    materials = [
        Material("desk", (0.78, 0.66, 0.50, 1.0), roughness_factor=0.7),
        Material("screen", (0.06, 0.16, 0.3, 1.0), emissive_factor=(0.12, 0.3, 0.55),
                 roughness_factor=0.2),
        Material("device", (0.08, 0.08, 0.09, 1.0), roughness_factor=0.4),
        Material("stool", (0.85, 0.35, 0.2, 1.0), roughness_factor=0.6),
    ]
    desk = merge([box((-0.6, 0.70, -0.35), (0.6, 0.74, 0.35))] + [
        box((sx * 0.55 - 0.03, 0.0, sz * 0.3 - 0.03), (sx * 0.55 + 0.03, 0.70, sz * 0.3 + 0.03))
        for sx in (-1, 1) for sz in (-1, 1)])
    stand = merge([box((-0.12, 0.74, -0.25), (0.12, 0.76, -0.1)),
                   box((-0.03, 0.76, -0.2), (0.03, 1.0, -0.16))], )
    stand.material = 2
    screen = box((-0.3, 0.95, -0.2), (0.3, 1.3, -0.17), material=1)
    tracker = box((-0.2, 0.9, -0.17), (0.2, 0.93, -0.12), material=2)
    stool = cylinder(0.18, 0.0, 0.45, 20, centre=(0.0, 0.55), material=3)
    nodes = [Node("desk", [desk]), Node("screen_stand", [stand]), Node("screen", [screen]),
             Node("eye_tracker", [tracker]), Node("stool", [stool])]
    return _model(materials, nodes), {"desk": "desk", "screen": "screen",
                                      "eye_tracker": "eye_tracker"}


def gauge() -> SmartModel:
    """A generic dial on a pedestal; `gauge_needle` turns about Z (min = -135°, max = +135°)."""
    materials = [
        Material("pedestal", (0.3, 0.32, 0.35, 1.0), roughness_factor=0.6),
        Material("dial", (0.95, 0.95, 0.92, 1.0), roughness_factor=0.5),
        Material("needle", (0.85, 0.1, 0.08, 1.0), emissive_factor=(0.4, 0.02, 0.0)),
    ]
    pedestal = merge([cylinder(0.25, 0.0, 0.06, 24), box((-0.06, 0.06, -0.06), (0.06, 1.1, 0.06)),
                      box((-0.42, 1.1, -0.06), (0.42, 1.94, 0.0))])
    dial = box((-0.38, 1.14, 0.0), (0.38, 1.9, 0.01), material=1)
    needle = box((-0.015, -0.02, 0.0), (0.015, 0.3, 0.02), material=2)
    nodes = [Node("gauge_pedestal", [pedestal]), Node("gauge_dial", [dial]),
             Node("gauge_needle", [needle], translation=(0.0, 1.52, 0.012))]
    return _model(materials, nodes), {"dial": "gauge_dial", "needle": "gauge_needle"}


def model_for(kind: str, feeds: list[str]) -> SmartModel:
    if kind == "street-lighting":
        return street_lamp()
    if kind == "smart-bin":
        return smart_bin(feeds)
    if kind == "eye-tracking-screening":
        return screening_station()
    return gauge()
