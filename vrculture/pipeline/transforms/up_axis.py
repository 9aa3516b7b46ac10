"""Which way is up: the declared axis, or an estimate from the geometry when nobody said.

OBJ, PLY, STL and OFF carry no up axis. The format's habit (+Y for OBJ/OFF, +Z for PLY/STL) is
only a guess that scanners break both ways (nefertiti.obj is +Z, igea/laurana/gargoyle.ply are
+Y), so with no `up` given the six signed axes are scored on what the geometry says:

- flat base: the area of flat faces at the extreme of an axis, facing along it and spread both
  ways (a bust's or a fragment's cut base, a relief's back; not a lying cylinder's facet strip);
- footprint: the support polygon, the convex hull of the vertices touching the floor: a
  plinth, four hooves or two feet span a wide one, a rounded head or back a point;
- open bottom: the length of the mesh's boundary edges lying at the extreme of an axis (scans
  of busts and vases are often open where they stood);
- cut rim: a head or bust broken off at the neck is closed there by a rough, slanted break,
  neither flat nor open, but ringed by a crease where the break meets the skin. Creases are
  found on a coarse copy of the mesh (vertex clustering), so they are the object's, not the
  scan's noise; a rim counts where it is long, runs around the axis rather than along it, and
  holds most of the object's creases;
- resting poses: the quasi-static model behind trimesh.poses.compute_stable_poses. An object
  dropped in a random orientation rolls down to a local minimum of its centre of mass's height,
  which is the support function h(u) = max over vertices of (v - c) . u of the direction u
  pointing to the floor. Sampling u on the sphere and following each sample downhill to its
  minimum gives each resting pose its probability (the share of directions it captures),
  without building the convex hull (the hull's vertices are where the maximum is reached), so
  without scipy. It weighs little: figures and animals mostly come to rest lying down;
- symmetry: most museum objects have one mirror plane, and up lies in it, so the axis across
  the mirror plane is unlikely to be up; and up along an axis much thinner than the longest
  side is a figure lying on its front, unless a flat base says otherwise;
- the format's habit, as a prior that decides when the geometry is silent.

The best axis's lead over the runner-up is the confidence; under UNSURE_BELOW the converter
warns. On the corpus, all ten scans stand right whichever of the six axes they are stored on,
saved as PLY, OBJ or STL without a hint; igea stands by its neck's rim alone (no flat base,
closed, and it would topple off its neck: it rests on its sides).

Everything but the boundary edges and the creases runs on a bounded sample (SAMPLE_TRIANGLES
triangles, SAMPLE_VERTICES vertices); the boundary edges are found only among the triangles
touching the six extreme bands, the creases on the coarse copy (one pass over the corners, in
chunks). Cost: see tools/bench_up_axis.py (the estimate against reading the file).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vrculture.pipeline.columns import column_max, column_min, take_rows
from vrculture.pipeline.model import Model

AXES: tuple[str, ...] = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")
AXIS_VECTORS = {axis: np.eye(3)[("XYZ".index(axis[1]))] * (1.0 if axis[0] == "+" else -1.0)
                for axis in AXES}
# Formats whose files state their up axis: glTF is +Y by specification; paintings and the
# build's generated models are made +Y by vrculture itself.
DECLARED_FORMATS = frozenset({"gltf", "glb", "image", "generated"})

SAMPLE_TRIANGLES = 60_000  # triangles the area and symmetry cues look at
SAMPLE_VERTICES = 12_000  # vertices the support function is taken over
SPHERE_DIRECTIONS = 1_500  # directions sampled for the resting poses
# Directions whose support is taken at once: a (12000, 500) float32 block, 24 MB. The max
# down its columns is the cost; 250 at a time took twice as long on the corpus (0.47 -> 0.23 s
# over 12 scans; 750: 0.23 s, 1500: 0.31 s), 16-128 far longer. The same values either way.
SUPPORT_BLOCK = 500
SPHERE_WINDOW = 160  # indices either side a direction's nearest are looked for (exact)
FLAT_DEGREES = 12.0  # a face within this of an axis counts as flat along it
BASE_BAND = 0.02  # flat faces within this share of the object's size from its extreme
OPEN_BAND = 0.04  # boundary edges within this share of the size from the extreme
SNAP_DEGREES = 30.0  # a resting pose counts for the axis it is this close to
SYMMETRY_GRID = 40  # voxels along the longest side for the mirror test
UNSURE_BELOW = 0.5  # confidence under which the summary warns
RIM_GRID = 40  # cells along the longest side of the coarse copy the creases are found on
RIM_DEGREES = 60.0  # coarse faces meeting at this angle or more make a crease
RIM_BAND = 0.1  # creases within this share of the size from an extreme ring a cut there
RIM_CHUNK = 1 << 18  # triangles mapped to cells at a time

# How much each cue weighs in an axis's score (the format's habit breaks ties). Resting poses
# weigh little: figures and animals fall on their side or back far more often than they
# stand (ogre rests on its back in 50% of drops, on its feet in 1%), so that cue alone would
# lay them down; it tips the balance only for compact objects.
WEIGHTS = {"flat": 3.0, "open": 1.5, "rest": 0.5, "habit": 0.4, "flat_share": 1.0,
           "footprint": 2.0, "rim": 1.5}
ACROSS_MIRROR_PENALTY = 2.0
# Below these a cue is scan noise (a few flat triangles at a shoulder, a small hole): the
# corpus's real bases measure 0.08-0.24 (flat) and 0.56-0.85 (open); noise stays under 0.03
# and 0.08.
FLAT_NOISE, FLAT_FULL = 0.03, 0.07
OPEN_NOISE, OPEN_FULL = 0.1, 0.4
# A cut's rim: crease length at the extreme (over the perimeter), and its share of all the
# creases. Ringing a cut, both are large (igea's neck: 0.29 and 0.63); a noisy or folded
# surface has long creases everywhere, so a small share (gargoyle: 0.05; a horse's flank 0.36).
RIM_NOISE, RIM_FULL = 0.05, 0.2
RIM_SHARE_NOISE, RIM_SHARE_FULL = 0.3, 0.6
# How far a rim's creases may run along the axis, on average (|cosine|): igea's neck 0.28,
# a clean cut 0; the creases on a lying figure's front or a horse's flank 0.4-0.5.
RIM_ALONG_NOISE, RIM_ALONG_FULL = 0.42, 0.32
FOOTPRINT_BAND = 0.01  # vertices this close to the floor touch it
FOOTPRINT_NOISE, FOOTPRINT_FULL = 0.05, 0.2
# Up along an axis much thinner than the longest side is a figure lying on its front or back
# (ogre: 10 units deep, 32 tall): penalised unless a real flat base says so (a relief's back).
THIN_BELOW, THIN_FULL = 0.5, 0.25
THIN_PENALTY = 3.0  # outweighs a lying figure's wider footprint on its back (ogre: 0.25
# against 0.15 on its feet), so it stands without a warning in every turn
MIRROR_MATCH = 0.9  # share of mirrored points landing on the surface to call a plane a mirror
MIRROR_GAP = 0.08  # and how far ahead of the other two axes it must be
MIRROR_MIN_SHARE = 0.25  # of the longest side an axis must span for a mirror test across it


@dataclass(frozen=True)
class UpChoice:
    axis: str  # the source axis that becomes +Y
    source: str  # "declared" | "estimated" | "format-habit"
    confidence: float  # 0..1
    evidence: tuple[str, ...]


def choose_up(model: Model, *, declared: str | None, source_format: str,
              habit: str) -> UpChoice:
    """The up axis to convert with: `declared` (collection `up` or --up) wins, then formats that
    state it, then the geometry's estimate."""
    if declared is not None:
        return UpChoice(declared, "declared", 1.0, ("given in the collection or with --up",))
    if source_format in DECLARED_FORMATS:
        why = "glTF is +Y up by specification" if source_format in ("gltf", "glb") \
            else "made +Y up by vrculture"
        return UpChoice(habit, "declared", 1.0, (why,))
    return estimate_up(model, habit=habit)


@dataclass(frozen=True)
class _Sample:
    positions: np.ndarray  # (V, 3) float64, centred on the box centre, longest side 1
    triangles: np.ndarray  # sampled triangles as corner positions, (T, 3, 3)
    weights: np.ndarray  # (T,) how many of the mesh's triangles each sampled one stands for
    all_triangles: list[np.ndarray]  # every primitive's full index array (boundary edges)
    all_positions: list[np.ndarray]

    # Three cues use the sampled triangles' centres and two their areas: made once
    # (igea: 0.004 s a mean, 0.008 s the areas and normals).
    @functools.cached_property
    def centroids(self) -> np.ndarray:
        return self.triangles.mean(axis=1)

    @functools.cached_property
    def areas_normals(self) -> tuple[np.ndarray, np.ndarray]:
        return _areas_normals(self.triangles)


def estimate_up(model: Model, *, habit: str) -> UpChoice:
    """Score the six axes on the geometry and the format's habit; see the module's docstring."""
    sample = _sample(model)
    if sample is None:
        return UpChoice(habit, "format-habit", 0.0, ("no triangles to judge by",))
    flat = _flat_base(sample)
    rest = _resting_poses(sample)
    open_ = _open_bottom(sample)
    footprint = _footprint(sample)
    rim = _cut_rim(sample)
    rim_strength = {a: _ramp(rim[a][0], RIM_NOISE, RIM_FULL)
                    * _ramp(rim[a][1], RIM_SHARE_NOISE, RIM_SHARE_FULL) for a in AXES}
    extent = np.ptp(sample.positions, axis=0)
    thinness = {a: _ramp(THIN_BELOW - float(extent["XYZ".index(a[1])] / extent.max()), 0.0,
                         THIN_BELOW - THIN_FULL) for a in AXES}
    mirror_axis, mirror_match = _mirror_axis(sample)
    scores = {}
    for axis in AXES:
        down = _opposite(axis)
        # The raw share as well: of two real bases the larger wins (a relief's back over
        # its edges).
        score = (WEIGHTS["flat"] * _ramp(flat[down], FLAT_NOISE, FLAT_FULL)
                 + WEIGHTS["flat_share"] * flat[down] * (flat[down] > FLAT_NOISE)
                 + WEIGHTS["open"] * _ramp(open_[down], OPEN_NOISE, OPEN_FULL)
                 + WEIGHTS["rim"] * rim_strength[down]
                 + WEIGHTS["footprint"] * _ramp(footprint[down], FOOTPRINT_NOISE, FOOTPRINT_FULL)
                 + WEIGHTS["rest"] * rest[down] + WEIGHTS["habit"] * (axis == habit))
        score -= THIN_PENALTY * thinness[axis] * (1 - _ramp(flat[down], FLAT_NOISE, FLAT_FULL))
        if axis[1] == mirror_axis:
            score -= ACROSS_MIRROR_PENALTY
        scores[axis] = score
    ranked = sorted(AXES, key=lambda a: scores[a], reverse=True)
    best, runner_up = ranked[0], ranked[1]
    margin = scores[best] - scores[runner_up]
    confidence = float(np.clip(margin / 1.5, 0.0, 1.0))
    down = _opposite(best)
    # Each cue's line with what it added to the chosen axis's score, the decisive one first:
    # a warning quotes the first few.
    weighed = [
        (WEIGHTS["flat"] * _ramp(flat[down], FLAT_NOISE, FLAT_FULL),
         f"flat base facing {down}: {flat[down]:.2f} of the footprint"),
        (WEIGHTS["rest"] * rest[down], f"rests on {down} in {rest[down]:.0%} of random drops"),
        (WEIGHTS["open"] * _ramp(open_[down], OPEN_NOISE, OPEN_FULL),
         f"open boundary at {down}: {open_[down]:.2f}"),
        (WEIGHTS["footprint"] * _ramp(footprint[down], FOOTPRINT_NOISE, FOOTPRINT_FULL),
         f"touches the floor over {footprint[down]:.2f} of the footprint"),
        (WEIGHTS["rim"] * rim_strength[down],
         f"crease ringing {down}: {rim[down][0]:.2f} of the perimeter, {rim[down][1]:.0%} of "
         "all creases"),
    ]
    # sorted() is stable: cues that added nothing keep their order.
    evidence = [line for _, line in sorted(weighed, key=lambda item: -item[0])]
    if mirror_axis is not None:
        evidence.append(f"mirror plane across {mirror_axis} (match {mirror_match:.2f}): "
                        "up lies in it")
    evidence.append(f"format habit {habit}" + (" agrees" if best == habit else " overruled"))
    evidence.append(f"runner-up {runner_up} (score {scores[runner_up]:.2f} against "
                    f"{scores[best]:.2f})")
    source = "format-habit" if best == habit and confidence < UNSURE_BELOW else "estimated"
    return UpChoice(best, source, round(confidence, 2), tuple(evidence))


def _ramp(value: float, noise: float, full: float) -> float:
    return float(np.clip((value - noise) / (full - noise), 0.0, 1.0))


def _opposite(axis: str) -> str:
    return ("-" if axis[0] == "+" else "+") + axis[1]


def _sample(model: Model) -> _Sample | None:
    prims = [p for p in model.primitives() if p.vertex_count and p.triangle_count]
    if not prims:
        return None
    # Per column (columns.py): a reduce over axis 0 of (N, 3) is ~20x slower.
    lo = np.min([column_min(p.positions) for p in prims], axis=0).astype(np.float64)
    hi = np.max([column_max(p.positions) for p in prims], axis=0).astype(np.float64)
    size = float(np.max(hi - lo))
    if not size > 0:
        return None
    centre = (lo + hi) / 2
    rng = np.random.default_rng(0)  # fixed: the same file always gets the same answer
    total = sum(p.triangle_count for p in prims)
    corners, points, weights = [], [], []
    for prim in prims:
        share = max(1, round(SAMPLE_TRIANGLES * prim.triangle_count / total))
        chosen = prim.indices if prim.triangle_count <= share else \
            prim.indices[rng.choice(prim.triangle_count, share, replace=False)]
        corners.append((take_rows(prim.positions, chosen).astype(np.float64) - centre) / size)
        weights.append(np.full(len(chosen), prim.triangle_count / len(chosen)))
        vshare = max(1, round(SAMPLE_VERTICES * prim.triangle_count / total))
        used = prim.positions[_used_vertices(chosen, prim.vertex_count)[0]] \
            if prim.vertex_count > vshare else prim.positions
        if len(used) > vshare:
            used = used[rng.choice(len(used), vshare, replace=False)]
        points.append((used.astype(np.float64) - centre) / size)
    return _Sample(np.concatenate(points), np.concatenate(corners), np.concatenate(weights),
                   [p.indices for p in prims], [p.positions for p in prims])


def _used_vertices(indices: np.ndarray, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(indices, return_inverse=True) by marking: the vertices used, in order, and
    `indices` renumbered into them (a sort of 1.5M corners was 0.09 s on the 1.6M bench mesh)."""
    mark = np.zeros(vertex_count, dtype=bool)
    mark[indices] = True
    renumber = np.cumsum(mark, dtype=np.int64) - 1
    return np.flatnonzero(mark), renumber[indices]


def _areas_normals(corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cross = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(cross, axis=1)
    normals = cross / np.maximum(length, 1e-300)[:, None]
    return length / 2, normals


def _flat_base(sample: _Sample) -> dict[str, float]:
    """Per axis: area of flat faces at its extreme, over the box's cross-section there."""
    areas, normals = sample.areas_normals
    areas = areas * sample.weights
    centroids = sample.centroids
    lo, hi = sample.positions.min(axis=0), sample.positions.max(axis=0)
    extent = np.maximum(hi - lo, 1e-9)
    flat_cos = np.cos(np.radians(FLAT_DEGREES))
    result = {}
    for axis in AXES:
        k = "XYZ".index(axis[1])
        sign = 1.0 if axis[0] == "+" else -1.0
        height = centroids[:, k] * sign
        extreme = float(np.max(sample.positions[:, k] * sign))
        near = height >= extreme - BASE_BAND
        flat = np.abs(normals[:, k]) >= flat_cos
        others = [j for j in range(3) if j != k]
        cross_section = float(extent[others[0]] * extent[others[1]])
        # Sampled triangles stand for the whole mesh's area in proportion.
        share = float(min(1.0, areas[near & flat].sum() / cross_section))
        # A base spreads both ways; a strip of facets along a turned or lying cylinder's
        # side is flat too, but narrow in one direction.
        patch = centroids[near & flat][:, others]
        if len(patch):
            spread = (patch.max(axis=0) - patch.min(axis=0)) / extent[others]
            share *= _ramp(float(spread.min()), 0.1, 0.25)
        result[axis] = share
    return result


def _footprint(sample: _Sample) -> dict[str, float]:
    """Per axis: the support polygon's area (convex hull of the vertices touching the floor)
    over the box's cross-section: a plinth, four hooves or two feet span a wide polygon, a
    rounded head or back touches at a point."""
    points = sample.positions
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(hi - lo, 1e-9)
    result = {}
    for axis in AXES:
        k = "XYZ".index(axis[1])
        sign = 1.0 if axis[0] == "+" else -1.0
        height = points[:, k] * sign
        touching = points[height >= height.max() - FOOTPRINT_BAND]
        others = [j for j in range(3) if j != k]
        area = _hull_area(touching[:, others])
        result[axis] = float(min(1.0, area / (extent[others[0]] * extent[others[1]])))
    return result


def _hull_area(points: np.ndarray) -> float:
    """Area of the 2-D convex hull (Andrew's monotone chain)."""
    # Distinct points sorted by x, then y (as np.unique(axis=0), which imports numpy.ma: 20 ms
    # of every conversion's start-up).
    points = points[np.lexsort((points[:, 1], points[:, 0]))]
    if len(points) > 1:
        step = np.diff(points, axis=0)
        points = points[np.r_[True, (step[:, 0] != 0) | (step[:, 1] != 0)]]
    if len(points) < 3:
        return 0.0

    def chain(ordered: np.ndarray) -> list[np.ndarray]:
        hull: list[np.ndarray] = []
        for p in ordered:
            while len(hull) >= 2:
                (ax, ay), (bx, by) = hull[-1] - hull[-2], p - hull[-2]
                if ax * by - ay * bx > 0:
                    break
                hull.pop()
            hull.append(p)
        return hull[:-1]

    ring = np.array(chain(points) + chain(points[::-1]))
    x, y = ring[:, 0], ring[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def _fibonacci_sphere(count: int) -> np.ndarray:
    i = np.arange(count) + 0.5
    z = 1 - 2 * i / count
    r = np.sqrt(1 - z * z)
    phi = np.pi * (1 + 5 ** 0.5) * i
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


# _nearest_directions(_fibonacci_sphere(SPHERE_DIRECTIONS), 9, SPHERE_WINDOW) as stored: the
# same for every conversion, and 0.025-0.05 s CPU of each to work out (igea's whole chain is
# ~1 s); reading it is 0.5 ms. Remade, should a constant change, by
# `_nearest_directions(...).astype("<u2").tofile(SPHERE_TABLE)`; a test compares the two.
SPHERE_TABLE = Path(__file__).with_name("sphere_neighbours.u16")


@functools.cache
def _sphere_graph() -> tuple[np.ndarray, np.ndarray]:
    """The sampled directions and, per direction, itself and its 8 nearest (made once)."""
    directions = _fibonacci_sphere(SPHERE_DIRECTIONS)
    try:
        stored = np.fromfile(SPHERE_TABLE, dtype="<u2")
    except OSError as err:  # an installation without its package data: not the caller's disk
        raise RuntimeError(f"cannot read {SPHERE_TABLE}: {err}") from None
    if stored.size != SPHERE_DIRECTIONS * 9:
        raise RuntimeError(f"{SPHERE_TABLE} holds {stored.size} entries, not "
                           f"{SPHERE_DIRECTIONS} x 9: remake it (see SPHERE_TABLE)")
    return directions, stored.reshape(SPHERE_DIRECTIONS, 9).astype(np.int64)


def _nearest_directions(directions: np.ndarray, k: int, window: int) -> np.ndarray:
    """Per direction of a Fibonacci sphere, the `k` nearest (itself included), exactly.

    The sphere's points run down in z with their index, so the nearest lie at nearby indices:
    only the `window` indices either side are compared (all pairs, 1500 x 1500 and their
    argpartition, were 0.07 s of every conversion). A direction outside the window is at
    least as far as the polar-angle gap to the window's ends; where the k-th nearest found is
    not provably closer than that, the row is compared with every direction instead.
    """
    n = len(directions)
    rows = np.arange(n)
    wanted = rows[:, None] + np.arange(-window, window + 1)
    columns = np.clip(wanted, 0, n - 1)
    inside = wanted == columns  # not past either end
    dots = np.einsum("ij,ikj->ik", directions, directions[columns])
    dots[~inside] = -np.inf
    part = np.argpartition(-dots, k - 1, axis=1)[:, :k]
    nearest = np.take_along_axis(columns, part, axis=1)
    kth = np.take_along_axis(dots, part, axis=1).min(axis=1)
    theta = np.arccos(np.clip(directions[:, 2], -1.0, 1.0))
    gap = np.full(n, np.pi)
    below, above = rows - window - 1, rows + window + 1
    has = below >= 0
    gap[has] = np.minimum(gap[has], theta[rows[has]] - theta[below[has]])
    has = above < n
    gap[has] = np.minimum(gap[has], theta[above[has]] - theta[rows[has]])
    unsure = np.flatnonzero(~(kth > np.cos(gap)))
    if len(unsure):
        nearest[unsure] = np.argpartition(-(directions[unsure] @ directions.T), k - 1,
                                          axis=1)[:, :k]
    return nearest


def _resting_poses(sample: _Sample) -> dict[str, float]:
    """Per axis: the probability that the object, dropped at random, comes to rest on it."""
    areas, _ = sample.areas_normals
    centroids = sample.centroids
    # The surface's centre of area stands in for the centre of mass: scans are often open
    # shells, where a solid's volume centroid is undefined.
    centre = (centroids * areas[:, None]).sum(axis=0) / max(areas.sum(), 1e-300)
    directions, neighbours = _sphere_graph()
    points = (sample.positions - centre).astype(np.float32)
    support = np.empty(len(directions))
    for start in range(0, len(directions), SUPPORT_BLOCK):
        block = directions[start:start + SUPPORT_BLOCK].astype(np.float32)
        support[start:start + SUPPORT_BLOCK] = (points @ block.T).max(axis=0)
    # Each direction steps to its lowest neighbour until no neighbour is lower: a local
    # minimum of the centre's height is a resting pose.
    step = neighbours[np.arange(len(directions)), np.argmin(support[neighbours], axis=1)]
    for _ in range(len(directions)):
        following = step[step]
        if np.array_equal(following, step):
            break
        step = following
    roots, counts = np.unique(step, return_counts=True)
    snap_cos = np.cos(np.radians(SNAP_DEGREES))
    result = dict.fromkeys(AXES, 0.0)
    for root, count in zip(roots, counts, strict=True):
        u = directions[root]
        for axis in AXES:
            if float(u @ AXIS_VECTORS[axis]) >= snap_cos:
                result[axis] += count / len(directions)
    return result


def _open_bottom(sample: _Sample) -> dict[str, float]:
    """Per axis: boundary-edge length lying at its extreme, over the box's perimeter there."""
    lo = np.min([column_min(p) for p in sample.all_positions], axis=0).astype(np.float64)
    hi = np.max([column_max(p) for p in sample.all_positions], axis=0).astype(np.float64)
    size = float(np.max(hi - lo))
    band = OPEN_BAND * size
    pieces = []
    for indices, positions in zip(sample.all_triangles, sample.all_positions, strict=True):
        # Only triangles touching one of the six bands can hold an edge lying in one, and
        # every triangle sharing such an edge touches the band too: the boundary found among
        # them is exact there, at a fraction of the cost on a large mesh.
        # Column by column: any(axis=1) over 3 items per row is ~5x slower.
        low, high = lo + band, hi - band
        in_band = np.zeros(len(positions), dtype=bool)
        for k in range(3):
            column = positions[:, k]
            in_band |= (column <= low[k]) | (column >= high[k])
        touching = in_band[indices[:, 0]] | in_band[indices[:, 1]] | in_band[indices[:, 2]]
        near = indices[touching]
        if not len(near):
            continue
        used, local = _used_vertices(near, len(positions))
        corners = take_rows(positions, used)
        ends = _boundary_edges(_shared_corners(local.reshape(-1, 3), corners))
        if len(ends):
            pieces.append(corners[ends].astype(np.float64))
    result = dict.fromkeys(AXES, 0.0)
    if not pieces:
        return result
    edges = np.concatenate(pieces)  # (E, 2, 3) in source units
    lengths = np.linalg.norm(edges[:, 1] - edges[:, 0], axis=1)
    extent = np.maximum(hi - lo, 1e-12)
    for axis in AXES:
        k = "XYZ".index(axis[1])
        at_extreme = (edges[:, :, k] >= hi[k] - band) if axis[0] == "+" \
            else (edges[:, :, k] <= lo[k] + band)
        others = [j for j in range(3) if j != k]
        perimeter = 2 * float(extent[others[0]] + extent[others[1]])
        result[axis] = float(min(1.0, lengths[at_extreme.all(axis=1)].sum() / perimeter))
    return result


def _cut_rim(sample: _Sample) -> dict[str, tuple[float, float]]:
    """Per axis: the sharp creases lying at its extreme, as (length over the box's perimeter
    there, share of all the object's crease length). A bust broken or sawn off at the neck is
    closed there by a rough, often slanted break: neither flat nor open, but ringed by a crease
    where the break meets the skin, and on a weathered or organic surface few other creases
    are as long.

    Found on a coarse copy of the mesh (vertex clustering on a RIM_GRID grid, every vertex at
    the mean of its cell's): creases at the scale of the object, not of the scan's noise, at a
    cost of a few passes over the corners. No corner welding needed: a triangle soup's
    coincident corners fall into one cell."""
    segments, extent = _creases(sample)
    result = dict.fromkeys(AXES, (0.0, 0.0))
    lengths = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)
    total = float(lengths.sum())
    if not total > 0:
        return result
    middles = segments.mean(axis=1)
    for axis in AXES:
        k = "XYZ".index(axis[1])
        sign = 1.0 if axis[0] == "+" else -1.0
        at_extreme = middles[:, k] * sign >= extent[k] / 2 - RIM_BAND
        others = [j for j in range(3) if j != k]
        perimeter = 2 * float(extent[others[0]] + extent[others[1]])
        length = float(lengths[at_extreme].sum())
        if not length > 0:
            continue
        # A rim runs around the axis, across it; creases scattered over a surface point
        # every way (the mean |cosine| of random directions with the axis is 0.5).
        across = segments[at_extreme, 1] - segments[at_extreme, 0]
        along = float(np.abs(across[:, k]).sum() / length)
        ring = _ramp(RIM_ALONG_NOISE - along, 0.0, RIM_ALONG_NOISE - RIM_ALONG_FULL)
        result[axis] = (min(1.0, length / perimeter) * ring, length / total)
    return result


def _creases(sample: _Sample) -> tuple[np.ndarray, np.ndarray]:
    """The coarse copy's creases as (E, 2, 3) segments centred on the box, longest side 1, and
    the box's extent in those units."""
    lo = np.min([column_min(p) for p in sample.all_positions], axis=0).astype(np.float64)
    hi = np.max([column_max(p) for p in sample.all_positions], axis=0).astype(np.float64)
    size = float(np.max(hi - lo))
    none = np.empty((0, 2, 3))
    if not size > 0:
        return none, np.zeros(3)
    cell = size / RIM_GRID
    shape = np.ceil((hi - lo) / cell).astype(np.int64) + 1
    cells = int(np.prod(shape))
    counts = np.zeros(cells)
    sums = np.zeros((cells, 3))
    coarse = []
    for indices, positions in zip(sample.all_triangles, sample.all_positions, strict=True):
        ids = np.zeros(len(positions), dtype=np.int64)
        for k in range(3):  # column by column (see columns.py)
            column = np.minimum(((positions[:, k] - lo[k]) / cell).astype(np.int64),
                                shape[k] - 1)
            ids = ids * shape[k] + column
        counts += np.bincount(ids, minlength=cells)
        for k in range(3):
            sums[:, k] += np.bincount(ids, weights=positions[:, k], minlength=cells)
        for start in range(0, len(indices), RIM_CHUNK):  # bounded memory on a large mesh
            corner_cells = ids[indices[start:start + RIM_CHUNK]]
            a, b, c = corner_cells[:, 0], corner_cells[:, 1], corner_cells[:, 2]
            coarse.append(corner_cells[(a != b) & (b != c) & (a != c)])
    triangles = np.concatenate(coarse) if coarse else np.empty((0, 3), np.int64)
    if not len(triangles):
        return none, (hi - lo) / size
    # One coarse triangle per set of three cells, whichever fine triangles made it.
    ordered = np.sort(triangles, axis=1)
    keys = (ordered[:, 0] * cells + ordered[:, 1]) * cells + ordered[:, 2]
    _, first = np.unique(keys, return_index=True)
    triangles = triangles[first]
    centres = (sums / np.maximum(counts, 1)[:, None] - (lo + hi) / 2) / size
    corners = centres[triangles]
    _, normals = _areas_normals(corners)
    # Edges two coarse triangles share (a fold where more meet is the clustering's, not the
    # object's); a crease is where their planes meet at RIM_DEGREES or more, either winding.
    a = np.concatenate([triangles[:, 0], triangles[:, 1], triangles[:, 2]])
    b = np.concatenate([triangles[:, 1], triangles[:, 2], triangles[:, 0]])
    face = np.tile(np.arange(len(triangles)), 3)
    edge_keys = np.minimum(a, b) * cells + np.maximum(a, b)
    order = np.argsort(edge_keys, kind="stable")
    sorted_keys = edge_keys[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    pair = same.copy()
    pair[1:] &= ~same[:-1]
    pair[:-1] &= ~same[1:]
    first_of_pair = np.flatnonzero(pair)
    left, right = face[order[first_of_pair]], face[order[first_of_pair + 1]]
    bend = np.abs(np.einsum("ij,ij->i", normals[left], normals[right]))
    sharp = first_of_pair[bend < np.cos(np.radians(RIM_DEGREES))]
    ends = np.stack([a[order[sharp]], b[order[sharp]]], axis=1)
    segments = centres[ends]  # (E, 2, 3), longest side 1
    return segments, (hi - lo) / size


def _shared_corners(indices: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """`indices` with corners at one position made one vertex: a triangle soup (STL stores
    every corner separately) would otherwise be all boundary."""
    if positions.shape[0] < 2 * indices.shape[0]:
        return indices  # an indexed mesh
    from vrculture.pipeline.meshopt_ffi import unique_rows_remap

    # Compared in the source's own precision: 64-bit georeferenced coordinates rounded to
    # 32 bits would merge corners up to a metre apart. Bytewise, by meshoptimizer's hash (as
    # np.unique over the rows as bytes did, by sorting: 0.026 s of igea's STL, now ~0.005 s);
    # each corner becomes the first row holding its position, as before.
    remap, unique = unique_rows_remap(np.ascontiguousarray(positions))
    first = np.empty(unique, dtype=np.int64)
    first[remap[::-1]] = np.arange(len(remap) - 1, -1, -1)
    return first[remap][indices]


def _boundary_edges(indices: np.ndarray) -> np.ndarray:
    """(E, 2) vertex pairs of the edges only one triangle uses."""
    t = indices.astype(np.int64)
    a = np.concatenate([t[:, 0], t[:, 1], t[:, 2]])
    b = np.concatenate([t[:, 1], t[:, 2], t[:, 0]])
    n = int(t.max()) + 1
    keys = np.minimum(a, b) * n + np.maximum(a, b)
    keys.sort()
    if keys.size == 0:
        return np.empty((0, 2), np.int64)
    first = np.ones(keys.size, bool)
    first[1:] = keys[1:] != keys[:-1]
    last = np.ones(keys.size, bool)
    last[:-1] = keys[1:] != keys[:-1]
    single = keys[first & last]
    return np.stack([single // n, single % n], axis=1)


def _median(values: np.ndarray) -> float:
    """np.median's value (the mean of the two middle values for an even count) by
    np.partition: np.median imports numpy.ma, 20 ms of every conversion's start-up."""
    n = len(values)
    middle = np.partition(values, [(n - 1) // 2, n // 2])
    if n % 2:
        return float(middle[n // 2])
    return float((middle[n // 2 - 1] + middle[n // 2]) / 2)


def _mirror_axis(sample: _Sample) -> tuple[str | None, float]:
    """The axis the object is mirror-symmetric across, if one stands out, and how strongly."""
    points = sample.centroids
    lo, hi = points.min(axis=0), points.max(axis=0)
    cell = float(np.max(hi - lo)) / SYMMETRY_GRID
    if not cell > 0:
        return None, 0.0  # one triangle, or all of them at one spot: nothing to mirror
    shape = np.maximum(1, np.ceil((hi - lo) / cell).astype(int) + 1)
    grid = np.zeros(shape, bool)
    cells = np.minimum(((points - lo) / cell).astype(int), shape - 1)
    grid[tuple(cells.T)] = True
    grown = grid.copy()
    for k in range(3):  # one voxel of slack for the scan's noise and an off-centre plane
        grown |= np.roll(grid, 1, axis=k) | np.roll(grid, -1, axis=k)
    matches = {}
    for k in range(3):
        if hi[k] - lo[k] < MIRROR_MIN_SHARE * (cell * SYMMETRY_GRID):
            # Across a thin axis (a plate's thickness) anything matches its mirror image
            # within the test's one voxel of slack.
            matches["XYZ"[k]] = 0.0
            continue
        best = 0.0
        for middle in (_median(points[:, k]), float(points[:, k].mean())):
            # The mirror plane through the middle of the surface along this axis.
            mirrored = cells.copy()
            mirrored[:, k] = np.floor((2 * middle - points[:, k] - lo[k]) / cell).astype(int)
            inside = (mirrored[:, k] >= 0) & (mirrored[:, k] < shape[k])
            hits = grown[tuple(mirrored[inside].T)]
            best = max(best, float(hits.sum() / len(cells)))
        matches["XYZ"[k]] = best
    ranked = sorted(matches, key=lambda a: matches[a], reverse=True)
    if matches[ranked[0]] < MIRROR_MATCH or matches[ranked[0]] - matches[ranked[1]] < MIRROR_GAP:
        return None, matches[ranked[0]]
    return ranked[0], matches[ranked[0]]
