// @ts-check
// Browser storage is never assumed: a cross-site iframe (a museum page embedding the viewer) may
// deny localStorage with a SecurityError, and private modes may throw on write.
/** @param {string} key */
export function readPreference(key) {
  try {
    return window.localStorage.getItem(`vrculture.${key}`);
  } catch {
    return null;
  }
}

/**
 * @param {string} key
 * @param {string} value
 */
export function writePreference(key, value) {
  try {
    window.localStorage.setItem(`vrculture.${key}`, String(value));
    return true;
  } catch {
    return false;
  }
}

/**
 * Comfort in a headset, remembered across visits.
 * @typedef {{turn: 'snap30' | 'snap45' | 'smooth', turnSpeed: number, vignette: boolean,
 *   seated: boolean, seatedHeight: number, textScale: number}} Comfort
 * turnSpeed in degrees a second; seatedHeight in metres the floor is lowered (the eyes raised)
 */

/** @type {Readonly<Comfort>} */
export const COMFORT_DEFAULTS = Object.freeze({
  turn: 'snap30', turnSpeed: 90, vignette: true, seated: false, seatedHeight: 0.4, textScale: 1,
});

/** the choices the menu offers; a stored value outside them is someone else's (or an old) value */
export const COMFORT_CHOICES = Object.freeze({
  turn: /** @type {const} */ (['snap30', 'snap45', 'smooth']),
  turnSpeed: [45, 90, 135, 180],
  seatedHeight: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
  textScale: [0.8, 1, 1.25, 1.5],
});

/**
 * The stored comfort settings; each field that is missing, malformed or not one of the choices
 * falls back to its default, so a hostile or old value can never set a 40 m floor.
 * @returns {Comfort}
 */
export function readComfort() {
  /** @type {Comfort} */
  const c = { ...COMFORT_DEFAULTS };
  const raw = readPreference('comfort');
  if (!raw || raw.length > 1000) return c;
  /** @type {unknown} */
  let parsed;
  try { parsed = JSON.parse(raw); } catch { return c; }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return c;
  const o = /** @type {Record<string, unknown>} */ (parsed);
  const turn = COMFORT_CHOICES.turn.find((x) => x === o.turn);
  if (turn) c.turn = turn;
  /** @param {unknown} v @param {readonly number[]} choices */
  const num = (v, choices) => (typeof v === 'number' && choices.includes(v) ? v : null);
  c.turnSpeed = num(o.turnSpeed, COMFORT_CHOICES.turnSpeed) ?? c.turnSpeed;
  c.seatedHeight = num(o.seatedHeight, COMFORT_CHOICES.seatedHeight) ?? c.seatedHeight;
  c.textScale = num(o.textScale, COMFORT_CHOICES.textScale) ?? c.textScale;
  if (typeof o.vignette === 'boolean') c.vignette = o.vignette;
  if (typeof o.seated === 'boolean') c.seated = o.seated;
  return c;
}

/** @param {Comfort} comfort */
export function writeComfort(comfort) {
  return writePreference('comfort', JSON.stringify(comfort));
}
