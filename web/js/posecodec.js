// @ts-check
// Binary pose codec of the rooms protocol v1 (docs/rooms-protocol.md, "Binary frames"); mirrors
// the Python reference vrculture/server/rooms/codec.py.
export const POSE_FRAME = 0x01;
export const STATE_FRAME = 0x02;
/** @type {PartName[]} */
export const PARTS = ['head', 'left', 'right'];
const UNITS = 500; // 2 mm steps
const LIMIT = 32767;
const HIDDEN = -32768;
const ROT_SCALE = 511 * Math.SQRT2;

/** @typedef {{p: number[], q: number[]}} Part a position (m) and a rotation quaternion [x, y, z, w] */
/** @typedef {{head?: Part, left?: Part, right?: Part}} PoseParts */
/** @typedef {{head?: Part | null, left?: Part | null, right?: Part | null}} StateParts null: that part is hidden */
/** @typedef {'head' | 'left' | 'right'} PartName */

/** @param {number[]} q */
function packRotation(q) {
  let v = [q[0], q[1], q[2], q[3]];
  const n = Math.hypot(...v) || 1;
  v = v.map((c) => c / n);
  let largest = 0;
  for (let i = 1; i < 4; i++) if (Math.abs(v[i]) > Math.abs(v[largest])) largest = i;
  if (v[largest] < 0) v = v.map((c) => -c);
  let word = largest * 2 ** 30; // arithmetic, not <<, to stay unsigned
  let shift = 20;
  for (let i = 0; i < 4; i++) {
    if (i === largest) continue;
    const u = Math.max(0, Math.min(1022, Math.round(v[i] * ROT_SCALE) + 511));
    word += u * 2 ** shift;
    shift -= 10;
  }
  return word >>> 0;
}

/** @param {number} word */
function unpackRotation(word) {
  const largest = word >>> 30;
  const small = [20, 10, 0].map((s) => Math.max(-1, Math.min(1, (((word >>> s) & 0x3ff) - 511) / ROT_SCALE)));
  const rest = Math.sqrt(Math.max(0, 1 - small.reduce((a, c) => a + c * c, 0)));
  /** @type {number[]} */
  const q = [];
  let next = 0;
  for (let i = 0; i < 4; i++) q.push(i === largest ? rest : small[next++]);
  return q;
}

/** @param {number} m */
const quant = (m) => Math.max(-LIMIT, Math.min(LIMIT, Math.round(m * UNITS)));

/**
 * parts: {head?: {p: [x,y,z], q: [x,y,z,w]}, left?: …, right?: …} -> ArrayBuffer
 * @param {PoseParts} parts
 */
export function encodePoseFrame(parts) {
  const present = PARTS.filter((name) => parts[name]);
  const buf = new ArrayBuffer(2 + 10 * present.length);
  const dv = new DataView(buf);
  dv.setUint8(0, POSE_FRAME);
  dv.setUint8(1, PARTS.reduce((m, name, bit) => (parts[name] ? m | (1 << bit) : m), 0));
  let o = 2;
  for (const name of present) {
    const { p, q } = /** @type {Part} */ (parts[name]);
    dv.setInt16(o, quant(p[0]), true);
    dv.setInt16(o + 2, quant(p[1]), true);
    dv.setInt16(o + 4, quant(p[2]), true);
    dv.setUint32(o + 6, packRotation(q), true);
    o += 10;
  }
  return buf;
}

/**
 * ArrayBuffer -> {tick, visitors: Map(id -> {head?: part|null, left?: …, right?: …})}; part = {p, q}
 * @param {ArrayBuffer} buffer
 */
export function decodeStateFrame(buffer) {
  const dv = new DataView(buffer);
  if (dv.byteLength < 8 || dv.getUint8(0) !== STATE_FRAME) throw new Error('not a state frame');
  const tick = dv.getUint32(2, true);
  const count = dv.getUint16(6, true);
  let o = 8;
  /** @type {Map<number, StateParts>} */
  const visitors = new Map();
  for (let n = 0; n < count; n++) {
    if (o + 2 > dv.byteLength) throw new Error('state frame truncated');
    const word = dv.getUint16(o, true);
    o += 2;
    /** @type {StateParts} */
    const parts = {};
    PARTS.forEach((name, bit) => {
      if (!((word >>> 13) & (1 << bit))) return;
      if (o + 10 > dv.byteLength) throw new Error('state frame truncated');
      const x = dv.getInt16(o, true);
      parts[name] = x === HIDDEN ? null : {
        p: [x / UNITS, dv.getInt16(o + 2, true) / UNITS, dv.getInt16(o + 4, true) / UNITS],
        q: unpackRotation(dv.getUint32(o + 6, true)),
      };
      o += 10;
    });
    visitors.set(word & 0x1fff, parts);
  }
  return { tick, visitors };
}
