// @ts-check
// Which level of detail an object needs, from what the screen can show: the geometry by its
// screen-space error (the level's measured error in metres, projected to pixels), the textures by
// their texel density (texels per screen pixel across the object). Pure functions of the level
// figures in exhibition.json and of the view, so they can be tested on their own; the budget
// (lod.js) then decides what the exhibition can afford.

/** @typedef {import('./manifest.js').Level} Level */
/**
 * What the level choice knows about one object in one view.
 * @typedef {{distance: number, fovDeg: number, viewportHeight: number, radius: number,
 *   textureSpan: number, xr?: boolean, ignoreScreenSize?: boolean}} View
 */

// A level's error under about one pixel cannot be seen; in a headset the eye's pixels are
// smaller than the lens resolves, so a little more is allowed there.
export const MAX_ERROR_PX = 1.0;
export const MAX_ERROR_PX_XR = 1.5;
// At least one texel per screen pixel: below that the texture is magnified and looks soft.
export const MIN_TEXEL_DENSITY = 1.0;
// Levels without a measured error (bundles from hand-made tools) fall back to the triangle
// density rule: a level is worth loading when it has at most ~1 triangle per covered pixel.
export const TRIS_PER_PIXEL = 1.0;
// Hysteresis: a sharper level already shown stays until even a twice stricter requirement is
// met by a lower one, so a visitor standing at a threshold does not swap levels back and forth.
export const KEEP_FACTOR = 2;
const NEAREST_M = 0.1; // nearer than this the projection stops growing (the camera's near plane)

/**
 * Screen pixels per metre at `distance` for a camera with vertical field of view `fovDeg` drawing
 * `viewportHeight` pixels (per eye in XR).
 * @param {number} distance metres
 * @param {number} fovDeg
 * @param {number} viewportHeight
 */
export function pixelsPerMetre(distance, fovDeg, viewportHeight) {
  const tanHalf = Math.tan(((fovDeg || 70) * Math.PI) / 360);
  return viewportHeight / (2 * Math.max(NEAREST_M, distance) * tanHalf);
}

/**
 * The length a level's largest texture spans on the object, in metres: a painting's image covers
 * its largest side; a model's atlas is spread over its surface, estimated as its bounding box's
 * (an overestimate, so the density estimate errs towards the sharper texture).
 * @param {string | undefined} kind
 * @param {{min: number[], max: number[]}} bounds
 */
export function textureSpan(kind, bounds) {
  const [x, y, z] = [0, 1, 2].map((i) => Math.max(0, bounds.max[i] - bounds.min[i]));
  if (kind === 'painting') return Math.max(0.01, x, y, z);
  return Math.max(0.01, Math.sqrt(2 * (x * y + y * z + z * x)));
}

/**
 * @param {Level[]} levels
 * @param {(i: number) => boolean} usable
 * @param {(level: Level) => boolean} enough
 * @returns {number} the lowest usable level that is enough, else the best usable one by `rank`
 * @param {(level: Level) => number} rank
 */
function lowestEnough(levels, usable, enough, rank) {
  let best = -1;
  for (let i = 0; i < levels.length; i++) {
    if (!usable(i)) continue;
    if (enough(levels[i])) return i;
    if (best < 0 || rank(levels[i]) > rank(levels[best])) best = i;
  }
  return Math.max(0, best);
}

/**
 * The geometry level the view needs.
 * @param {Level[]} levels ordered low -> high
 * @param {View} view
 * @param {(i: number) => boolean} usable
 * @param {number} strictness 1, or KEEP_FACTOR for the hysteresis bound
 */
export function geometryLevel(levels, view, usable, strictness = 1) {
  const ppm = pixelsPerMetre(view.distance, view.fovDeg, view.viewportHeight);
  if (levels.every((l) => typeof l.error === 'number')) {
    const maxError = (view.xr ? MAX_ERROR_PX_XR : MAX_ERROR_PX) / strictness;
    return lowestEnough(levels, usable, (l) => /** @type {number} */ (l.error) * ppm <= maxError,
      (l) => -(l.error ?? 0));
  }
  // fallback: the highest level with at most TRIS_PER_PIXEL triangles per covered pixel
  const px = view.radius * ppm;
  const area = Math.PI * px * px;
  let best = 0;
  for (let i = 1; i < levels.length; i++) {
    if (usable(i) && levels[i].triangles <= TRIS_PER_PIXEL * strictness * area) best = i;
  }
  return best;
}

/**
 * The texture level the view needs: the lowest whose texel density reaches MIN_TEXEL_DENSITY,
 * else the one with the largest texture. Untextured objects need none (level 0).
 * @param {Level[]} levels ordered low -> high
 * @param {View} view
 * @param {(i: number) => boolean} usable
 * @param {number} strictness 1, or KEEP_FACTOR for the hysteresis bound
 */
export function textureLevel(levels, view, usable, strictness = 1) {
  if (!levels.some((l) => (l.texture_px || 0) > 0)) return 0;
  const ppm = pixelsPerMetre(view.distance, view.fovDeg, view.viewportHeight);
  const needed = MIN_TEXEL_DENSITY * strictness * ppm * view.textureSpan; // texels across the span
  return lowestEnough(levels, usable, (l) => (l.texture_px || 0) >= needed, (l) => l.texture_px || 0);
}

/**
 * The level an object should show (`desired`), and the highest level worth keeping once shown
 * (`keep` >= desired): a sharper one is released only above `keep`.
 * @param {Level[]} levels ordered low -> high
 * @param {View} view
 * @param {(i: number) => boolean} [usable] false for levels that failed to load
 */
export function chooseLevel(levels, view, usable = () => true) {
  if (view.ignoreScreenSize) {
    let top = 0;
    for (let i = 0; i < levels.length; i++) if (usable(i)) top = i;
    return { desired: top, keep: top };
  }
  const at = (/** @type {number} */ strictness) => Math.max(
    geometryLevel(levels, view, usable, strictness), textureLevel(levels, view, usable, strictness));
  return { desired: at(1), keep: at(KEEP_FACTOR) };
}
