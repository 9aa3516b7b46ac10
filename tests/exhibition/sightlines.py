"""Lines of sight in a laid-out gallery: ray casts from a visitor's eye to sample points on a
work, tested against the other works' boxes and the walls (numpy slab test, ray vs AABB).

What "visible" means here:
- From a work's own view point, at least OWN_VISIBLE of the sample points on its front half
  (the points on the visitor's side of its centre) must be unblocked by other works and walls.
  The visitor stands there to look at that work, so nothing should stand in between; the 5 %
  allowance is for rays that graze a neighbour's box, which is conservative (the whole footprint,
  plinth margin included, from the floor to the work's top).
- From the entrance and from every view point, no work in the same room is hidden behind other
  works: if it can be seen past the walls at all, the line to its middle (the centre of its
  box) must not cross another work, and not every line to its front-half points may. A
  visitor may turn around anywhere, so this holds in every direction, with two limits: a work
  counts only from within FACING degrees of its front (every work faces the room; beyond 60
  degrees a painting is foreshortened to under half its width and one looks along the wall,
  not at the work), and only from its own room (through a door one sees a slice of the next
  room; its works are looked at from inside it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EYE = 1.6  # a standing adult's eye height
OWN_VISIBLE = 0.95
FACING = 60.0  # degrees off a work's front within which it counts as in sight
EPS = 1e-6


@dataclass
class Work:
    id: str
    front: np.ndarray  # (2,) the (x, z) direction the work faces
    points: np.ndarray  # (n, 3) sample points on its surface, world coordinates
    centre: np.ndarray  # (3,)
    occluder: np.ndarray  # (2, 3) min and max corners of the box that stands in others' way
    room: tuple[float, float, float, float]  # its room's floor [min_x, min_z, max_x, max_z]


def box_points(lo: np.ndarray, hi: np.ndarray, per_side: int = 5) -> np.ndarray:
    """A grid of points on each face of the box, inset from its edges; an odd count puts one on
    each face's middle."""
    t = (np.arange(per_side) + 0.5) / per_side
    u, v = np.meshgrid(t, t, indexing="ij")
    u, v = u.ravel(), v.ravel()
    faces = []
    for axis in range(3):
        a, b = (axis + 1) % 3, (axis + 2) % 3
        for side in (lo[axis], hi[axis]):
            p = np.empty((u.size, 3))
            p[:, axis] = side
            p[:, a] = lo[a] + u * (hi[a] - lo[a])
            p[:, b] = lo[b] + v * (hi[b] - lo[b])
            faces.append(p)
    return np.concatenate(faces)


def placed_box(local_lo: np.ndarray, local_hi: np.ndarray, position: list[float],
               yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """World AABB of a local box turned by yaw about +Y and moved to position."""
    corners = np.array([[x, y, z] for x in (local_lo[0], local_hi[0])
                        for y in (local_lo[1], local_hi[1]) for z in (local_lo[2], local_hi[2])])
    return transform(corners, position, yaw).min(axis=0), transform(corners, position, yaw).max(0)


def transform(points: np.ndarray, position: list[float], yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    # glTF rotation about +Y: local +Z turns to (sin yaw, cos yaw).
    return np.stack([c * x + s * z, y, -s * x + c * z], axis=1) + np.asarray(position)


def work(id: str, placement: dict, room: tuple[float, float, float, float],
         local_lo: np.ndarray, local_hi: np.ndarray, surface: np.ndarray | None = None) -> Work:
    """A work from its manifest-shaped placement and its local bounds; `surface` (local points,
    e.g. mesh vertices) replaces the bounding box's face grid as sample points when given."""
    lo, hi = placed_box(local_lo, local_hi, placement["position"], placement["yaw"])
    points = (box_points(lo, hi) if surface is None
              else transform(surface, placement["position"], placement["yaw"]))
    f = placement["footprint"]
    if placement.get("mount") == "wall":
        occluder = np.array([[f[0], lo[1], f[1]], [f[2], hi[1], f[3]]])
    else:  # standing works block from the floor up, plinth included
        occluder = np.array([[f[0], 0.0, f[1]], [f[2], hi[1], f[3]]])
    front = np.array([math.sin(placement["yaw"]), math.cos(placement["yaw"])])
    return Work(id, front, points, (lo + hi) / 2, occluder, tuple(room))


def blocked(eye: np.ndarray, points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """For each point, whether the segment eye -> point passes through any of `boxes`
    ((m, 2, 3): min and max corners). Touching a face counts as passing by."""
    if len(boxes) == 0 or len(points) == 0:
        return np.zeros(len(points), bool)
    d = points - eye  # (n, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d
        t1 = (boxes[None, :, 0, :] - eye) * inv[:, None, :]  # (n, m, 3)
        t2 = (boxes[None, :, 1, :] - eye) * inv[:, None, :]
    near = np.fmin(t1, t2)
    far = np.fmax(t1, t2)
    # A ray parallel to a slab: inside it for every t, or never.
    parallel = d[:, None, :] == 0
    inside = (eye >= boxes[None, :, 0, :]) & (eye <= boxes[None, :, 1, :])
    near = np.where(parallel, np.where(inside, -np.inf, np.inf), near)
    far = np.where(parallel, np.where(inside, np.inf, -np.inf), far)
    t_in = np.maximum(near.max(axis=2), 0.0)
    t_out = np.minimum(far.min(axis=2), 1.0)
    return (t_in + EPS < t_out - EPS).any(axis=1)


def front_half(w: Work, eye: np.ndarray) -> np.ndarray:
    """Sample points on the visitor's side of the work's centre (horizontally)."""
    to_eye = (eye - w.centre)[[0, 2]]
    return w.points[(w.points[:, [0, 2]] - w.centre[[0, 2]]) @ to_eye > 0]


def others(works: list[Work], skip: str) -> np.ndarray:
    return np.array([w.occluder for w in works if w.id != skip]).reshape(-1, 2, 3)


def own_visibility(works: list[Work], views: dict[str, tuple[float, float]],
                   walls: np.ndarray) -> dict[str, float]:
    """Per work: the fraction of its front-half points seen from its view point (x, z)."""
    out = {}
    for w in works:
        if w.id not in views:
            continue
        eye = np.array([views[w.id][0], EYE, views[w.id][1]])
        points = front_half(w, eye)
        hidden = blocked(eye, points, others(works, w.id)) | blocked(eye, points, walls)
        out[w.id] = 1.0 - hidden.mean()
    return out


def hidden_works(works: list[Work], eye_xz: tuple[float, float], walls: np.ndarray,
                 facing: float | None = FACING) -> list[str]:
    """Works in sight past the walls from eye_xz that other works hide: the line to the work's
    middle is blocked, or every line to its front-half points is."""
    eye = np.array([eye_xz[0], EYE, eye_xz[1]])
    hidden = []
    for w in works:
        r = w.room
        if not (r[0] <= eye_xz[0] <= r[2] and r[1] <= eye_xz[1] <= r[3]):
            continue  # through a door one sees a slice of the next room, looked at from inside
        to_eye = np.array(eye_xz) - w.centre[[0, 2]]
        if facing is not None and \
                to_eye @ w.front < math.cos(math.radians(facing)) * np.linalg.norm(to_eye):
            continue  # seen edge-on or from behind: not where one looks at it from
        points = np.concatenate([w.centre[None], front_half(w, eye)])
        points = points[~blocked(eye, points, walls)]
        if not len(points):
            continue
        cover = blocked(eye, points, others(works, w.id))
        if cover.all() or (np.array_equal(points[0], w.centre) and cover[0]):
            hidden.append(w.id)
    return hidden


def check_sightlines(works: list[Work], views: dict[str, tuple[float, float]],
                     entrance: tuple[float, float], walls: np.ndarray) -> dict[str, float]:
    """Asserts both properties; returns each work's own-view visibility."""
    seen = own_visibility(works, views, walls)
    poor = {k: round(v, 3) for k, v in seen.items() if v < OWN_VISIBLE}
    assert not poor, f"works hidden from their own view points: {poor}"
    for where, eye in [("the entrance", entrance), *views.items()]:
        assert not (hidden := hidden_works(works, eye, walls)), f"hidden from {where}: {hidden}"
    return seen


def wall_boxes(walls: list) -> np.ndarray:
    """Layout wall Boxes as (m, 2, 3) corners."""
    return np.array([[[b.rect[0], b.bottom, b.rect[1]], [b.rect[2], b.bottom + b.height,
                                                          b.rect[3]]] for b in walls])
