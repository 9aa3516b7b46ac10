// @ts-check
// Where a visitor stands to look at an object or exhibit: the view point the builder wrote into
// the manifest, else one derived from its placement and size the way the builder's layout does
// (vrculture/exhibition/layout.py: in front of it along its yaw, far enough to see it whole).

/** @typedef {{x: number, z: number, yaw: number}} Standpoint */

/**
 * @param {{kind?: string, placement?: import('./manifest.js').Placement, bounds?: {min: number[], max: number[]}}} record
 * @param {(x: number, z: number) => boolean} canStandAt
 * @returns {Standpoint | null} null where it has no placement or no free floor in front of it
 */
export function viewPointOf(record, canStandAt) {
  const p = record.placement;
  if (!p) return null;
  const given = p.view_point;
  if (given && Array.isArray(given.position) && given.position.length === 3) {
    return { x: given.position[0], z: given.position[2], yaw: given.yaw ?? 0 };
  }
  if (!p.position) return null;
  const [sx, sy, sz] = sizeOf(record);
  const distance = record.kind === 'painting'
    ? Math.max(1.4, Math.min(3.5, 1.2 * Math.max(sx, sy)))
    : Math.max(sx, sz) / 2 + Math.max(0.9, 0.7 * Math.max(sx, sy));
  const yaw = p.yaw ?? 0;
  // the object's local +Z is its front: (sin yaw, cos yaw) on the floor; a rig at that yaw faces back along it
  const fx = Math.sin(yaw);
  const fz = Math.cos(yaw);
  for (let extra = 0; extra <= 2; extra += 0.25) {
    const x = p.position[0] + fx * (distance + extra);
    const z = p.position[2] + fz * (distance + extra);
    if (canStandAt(x, z)) return { x, z, yaw };
  }
  return null;
}

/**
 * Width, height, depth in metres: from the bounds, else from the footprint.
 * @param {{placement?: import('./manifest.js').Placement, bounds?: {min: number[], max: number[]}}} record
 * @returns {number[]}
 */
function sizeOf(record) {
  const b = record.bounds;
  if (b && b.min && b.max) return [0, 1, 2].map((i) => Math.abs(b.max[i] - b.min[i]));
  const f = record.placement?.footprint;
  if (f && f.length === 4) return [Math.abs(f[2] - f[0]), 1, Math.abs(f[3] - f[1])];
  return [1, 1, 1];
}
