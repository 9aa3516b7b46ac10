// @ts-check
// Smart-city exhibits: live sensor readings animate named nodes of the exhibit's model (a street
// light's glow, a bin's fill, a screening screen's count) and feed the panel's values and chart.
import * as THREE from 'three';
import { viewerState, reportError } from './state.js';
import { fire, listen } from './events.js';
import { publicPath } from './base.js';

const HISTORY = 60;
// node role -> conventional node name, used when the manifest's model.nodes does not name it
/** @type {Record<string, string>} */
const DEFAULT_NODES = { light: 'lamp_light', fill: 'bin_fill', screen: 'screen' };

/** @typedef {import('./manifest.js').SmartRecord} SmartRecord */

/**
 * Names of the nodes a reading animates in this exhibit's model: drawn on their own, never
 * merged with the static parts.
 * @param {SmartRecord} s
 */
export function animatedNodeNames(s) {
  const named = Object.entries((s.model && s.model.nodes) || {})
    .filter(([key]) => key.split(':')[0] in DEFAULT_NODES).map(([, name]) => name);
  return new Set([...named, ...Object.values(DEFAULT_NODES)]);
}
/** @typedef {Record<string, any>} Reading a feed's reading: `t` plus the fields of its kind */
/**
 * What a feed's readings mean for the exhibit's goal, as the server computes it for every
 * visitor alike (GET /api/feeds/{feed}/figures, `figures` messages in the room).
 * @typedef {{figure: string, goal: string, value: number | string, unit: string, at_least?: boolean, co2_kg?: number,
 *   period: {kind: string, term?: string | null, from: string, to: string}, assumptions: Record<string, any>}} GoalFigure
 */
/**
 * What a panel shows of one feed.
 * @typedef {{feed: string, kind: string, value: number | null, unit: string, series: number[], last: Reading | null, figure: GoalFigure | null}} LiveValue
 */

export class SmartExhibits {
  /** @param {import('./viewer.js').Viewer} viewer */
  constructor(viewer) {
    this.viewer = viewer;
    /** @type {Map<string, SmartRecord>} feed id -> exhibit record */
    this.byFeed = new Map();
    /** @type {Map<string, Reading[]>} feed id -> readings, oldest first */
    this.history = new Map();
    /** @type {Map<string, {group: THREE.Object3D, named: Record<string, string>, cache: Map<string, THREE.Object3D | null>}>} exhibit id -> its model and the nodes found in it */
    this.nodes = new Map();
    /** @type {Map<string, string>} street-lighting feed -> the lamp the exhibit follows */
    this.lampShown = new Map();
    /** @type {Map<string, GoalFigure[]>} feed id -> its goal figures, as the server sent them */
    this.figures = new Map();
    for (const s of viewer.manifest.smart_exhibits) for (const f of s.feeds) this.byFeed.set(f, s);
    listen(viewer, 'smart-loaded', (/** @type {{id: string, group: THREE.Object3D}} */ { id, group }) => this.bindNodes(id, group));
  }

  /**
   * @param {string} id
   * @param {THREE.Object3D} group
   */
  bindNodes(id, group) {
    const s = this.viewer.manifest.smart_exhibits.find((x) => x.id === id);
    if (!s) return;
    this.nodes.set(id, { group, named: (s.model && s.model.nodes) || {}, cache: new Map() });
    for (const feed of s.feeds) {
      const latest = this.latest(feed);
      if (latest) this.animate(s, feed, latest);
    }
  }

  /** The node playing `role` for `feed`: model.nodes["role:feed"], then ["role"], then the
   * conventional name. Its materials are cloned once so that shared materials stay untouched.
   * @param {string} exhibitId
   * @param {string} role
   * @param {string} feed
   * @returns {THREE.Object3D | null}
   */
  node(exhibitId, role, feed) {
    const entry = this.nodes.get(exhibitId);
    if (!entry) return null;
    const key = `${role}:${feed}`;
    const cached = entry.cache.get(key);
    if (cached !== undefined) return cached;
    /** @type {THREE.Object3D | null} */
    let found = null;
    for (const name of [entry.named[key], entry.named[role], DEFAULT_NODES[role]]) {
      found = (name && entry.group.getObjectByName(name)) || null;
      if (found) break;
    }
    found?.traverse((o) => {
      if (o instanceof THREE.Mesh && !o.userData.ownMaterial) { o.material = o.material.clone(); o.userData.ownMaterial = true; }
    });
    entry.cache.set(key, found);
    return found;
  }

  /** @param {string} feed */
  latest(feed) {
    const h = this.history.get(feed);
    return h && h.length ? h[h.length - 1] : null;
  }

  /**
   * A reading arrived (room WebSocket or history fetch).
   * @param {string} feed
   * @param {unknown} reading
   */
  ingest(feed, reading, { live = true } = {}) {
    const s = this.byFeed.get(feed);
    if (!s || !reading || typeof reading !== 'object') return;
    const r = /** @type {Reading} */ (reading);
    const h = this.history.get(feed) || [];
    if (h.length && r.t != null && h[h.length - 1].t === r.t) return;
    h.push(r);
    h.sort((a, b) => timeOf(a) - timeOf(b));
    while (h.length > HISTORY) h.shift();
    this.history.set(feed, h);
    viewerState.feeds[feed] = r;
    if (live || h[h.length - 1] === r) this.animate(s, feed, h[h.length - 1]);
    fire(this.viewer, 'reading', { feed, exhibit: s.id, reading: r });
  }

  /**
   * The server's goal figures for a feed arrived (room message or fetch): kept whole, never
   * recomputed here, so that every visitor sees the same numbers.
   * @param {string} feed
   * @param {unknown} figures
   */
  ingestFigures(feed, figures) {
    const s = this.byFeed.get(feed);
    if (!s || !Array.isArray(figures)) return;
    const valid = figures.filter((f) => f && typeof f === 'object' && typeof f.figure === 'string' && f.period && typeof f.period === 'object');
    this.figures.set(feed, valid);
    viewerState.figures[feed] = valid;
    fire(this.viewer, 'reading', { feed, exhibit: s.id });
  }

  /**
   * Fetches the goal figures of an exhibit's feeds (on load and when its panel opens).
   * @param {string} exhibitId
   */
  async fetchFigures(exhibitId) {
    const s = this.viewer.manifest.smart_exhibits.find((x) => x.id === exhibitId);
    if (!s) return;
    await Promise.all(s.feeds.map(async (feed) => {
      try {
        const res = await fetch(publicPath(`api/feeds/${encodeURIComponent(feed)}/figures`));
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = await res.json();
        this.ingestFigures(feed, body.figures);
      } catch (err) {
        reportError(`feed figures ${feed}`, err);
      }
    }));
  }

  /**
   * Fetches the recent history of an exhibit's feeds (when its panel opens).
   * @param {string} exhibitId
   */
  async fetchHistory(exhibitId, limit = HISTORY) {
    const s = this.viewer.manifest.smart_exhibits.find((x) => x.id === exhibitId);
    if (!s) return;
    await Promise.all(s.feeds.map(async (feed) => {
      try {
        const res = await fetch(publicPath(`api/feeds/${encodeURIComponent(feed)}/readings?limit=${limit}`));
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = await res.json();
        const list = Array.isArray(body) ? body : body.readings || [];
        for (const r of /** @type {Reading[]} */ (list)) this.ingest(feed, r.reading && typeof r.reading === 'object' ? r.reading : r, { live: false });
      } catch (err) {
        reportError(`feed history ${feed}`, err);
      }
    }));
    fire(this.viewer, 'reading', { exhibit: exhibitId });
  }

  /**
   * @param {SmartRecord} s
   * @param {string} feed
   * @param {Reading} r
   */
  animate(s, feed, r) {
    /** @type {import('./state.js').SmartShown} */
    const shown = viewerState.smart[s.id] || { kind: s.kind, feeds: {} };
    if (s.kind === 'street-lighting' && Number.isFinite(r.level)) {
      // A feed may report a whole street of lamps; the exhibit's one lamp post follows one of
      // them (the lowest id seen) so that it does not flicker between its neighbours' levels.
      if (typeof r.lamp === 'string') {
        const current = this.lampShown.get(feed);
        if (current === undefined || r.lamp < current) this.lampShown.set(feed, r.lamp);
        else if (r.lamp !== current) return;
      }
      const level = clamp(r.level, 0, 100) / 100;
      this.node(s.id, 'light', feed)?.traverse((o) => {
        if (o instanceof THREE.Mesh && o.material.emissive) {
          o.material.emissive.setRGB(1, 0.9, 0.6);
          o.material.emissiveIntensity = 0.05 + 2.0 * level;
          shown.emissiveIntensity = round(o.material.emissiveIntensity);
        }
      });
      shown.value = r.level;
    } else if (s.kind === 'smart-bin' && Number.isFinite(r.fill_pct)) {
      const fill = this.node(s.id, 'fill', feed);
      if (fill) {
        fill.scale.y = Math.max(0.02, clamp(r.fill_pct, 0, 100) / 100);
        shown.fillScale = round(fill.scale.y);
      }
      shown.value = r.fill_pct;
    } else if (s.kind === 'eye-tracking-screening' && (Number.isFinite(r.sessions) || isSuppressed(r.sessions))) {
      // A small count arrives suppressed ("<5", see readings.py): shown as such, never charted.
      const screen = this.node(s.id, 'screen', feed);
      if (screen) this.paintScreen(screen, `${r.sessions}`);
      shown.value = Number.isFinite(r.sessions) ? r.sessions : null;
      shown.text = `${r.sessions}`;
    } else if (Number.isFinite(r.value)) {
      shown.value = r.value;
    }
    shown.feeds[feed] = shown.value;
    viewerState.smart[s.id] = shown;
  }

  /**
   * @param {THREE.Object3D} node
   * @param {string} text
   */
  paintScreen(node, text) {
    node.traverse((o) => {
      if (!(o instanceof THREE.Mesh)) return;
      let canvas = o.userData.screenCanvas;
      if (!canvas) {
        canvas = document.createElement('canvas');
        canvas.width = 256;
        canvas.height = 128;
        o.userData.screenCanvas = canvas;
        o.material.map = new THREE.CanvasTexture(canvas);
        o.material.map.colorSpace = THREE.SRGBColorSpace;
        o.material.emissive?.setRGB(1, 1, 1);
        o.material.emissiveMap = o.material.map;
        o.material.needsUpdate = true;
      }
      const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')); // our canvases only ever get a 2D context
      g.fillStyle = '#0b2a3a';
      g.fillRect(0, 0, 256, 128);
      g.fillStyle = '#e8f6ff';
      g.font = 'bold 72px sans-serif';
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      g.fillText(text, 128, 64);
      o.material.map.needsUpdate = true;
    });
  }

  /**
   * Values for a panel, one per feed of the exhibit.
   * @param {string} exhibitId
   * @returns {LiveValue[]}
   */
  panelValues(exhibitId) {
    const s = this.viewer.manifest.smart_exhibits.find((x) => x.id === exhibitId);
    if (!s) return [];
    return s.feeds.map((feed) => {
      const h = this.history.get(feed) || [];
      const key = fieldFor(s.kind);
      const series = h.map((r) => Number(r[key])).filter(Number.isFinite);
      const last = h.length ? h[h.length - 1] : null;
      const unit = s.kind === 'eye-tracking-screening' ? '' : (this.viewer.manifest.feeds[feed]?.unit || s.gauge?.unit || '%');
      const figure = (this.figures.get(feed) || [])[0] || null;
      return { feed, kind: s.kind, value: last ? last[key] : null, unit, series, last, figure };
    });
  }
}

/**
 * A count the server withheld for privacy: "<5" (a count of 1-4) or "suppressed".
 * @param {unknown} v
 * @returns {boolean}
 */
export function isSuppressed(v) {
  return v === '<5' || v === 'suppressed';
}

/** @param {string} kind */
export function fieldFor(kind) {
  return /** @type {Record<string, string>} */ ({ 'street-lighting': 'level', 'smart-bin': 'fill_pct', 'eye-tracking-screening': 'sessions' })[kind] || 'value';
}

/** @param {Reading} r */
function timeOf(r) {
  const t = typeof r.t === 'number' ? r.t * (r.t < 1e12 ? 1000 : 1) : Date.parse(r.t);
  return Number.isFinite(t) ? t : 0;
}

/**
 * @param {number} v
 * @param {number} lo
 * @param {number} hi
 */
function clamp(v, lo, hi) {
  return Math.min(hi, Math.max(lo, v));
}

/** @param {number} v */
function round(v) {
  return Math.round(v * 1000) / 1000;
}

/**
 * Draws a small line chart of a series onto a 2D canvas context.
 * @param {CanvasRenderingContext2D} g
 * @param {number[]} series
 * @param {number} x
 * @param {number} y
 * @param {number} w
 * @param {number} h
 * @param {{min?: number, max?: number | null, color?: string, text?: string}} [style]
 */
export function drawChart(g, series, x, y, w, h, { min = 0, max = null, color = '#4fc3f7', text = '#ccc' } = {}) {
  g.save();
  g.strokeStyle = '#666';
  g.lineWidth = 1;
  g.strokeRect(x, y, w, h);
  if (series.length) {
    const hi = max ?? Math.max(1, ...series);
    const lo = Math.min(min, ...series);
    g.strokeStyle = color;
    g.lineWidth = Math.max(2, h / 60);
    g.beginPath();
    series.forEach((v, i) => {
      const px = x + (series.length === 1 ? w : (i / (series.length - 1)) * w);
      const py = y + h - ((v - lo) / (hi - lo || 1)) * h;
      if (i === 0) g.moveTo(px, py); else g.lineTo(px, py);
    });
    g.stroke();
    g.fillStyle = text;
    g.font = `${Math.round(h / 6)}px sans-serif`;
    g.fillText(String(hi), x + 4, y + h / 6 + 2);
  }
  g.restore();
}
