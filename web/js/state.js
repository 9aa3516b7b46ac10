// @ts-check
// window.viewerState: counters and logs that the end-to-end tests and benchmarks read. Plain data
// only (JSON-serialisable), updated by the modules as things happen. A gallery kiosk runs for
// weeks, so every log keeps only its last LOG_LIMIT entries; `counts` counts them all.

/** Entries each log keeps: plenty for a test or a look in the console, bounded for a kiosk. */
export const LOG_LIMIT = 200;

/** @typedef {{id: string, via: string, annotation: string | null, at: number}} Pick */
/** @typedef {{x: number, z: number, via: string}} Teleport */
/** @typedef {{object: string, level: string, index: number, ok: boolean, bytes: number, startedAt: number, doneAt: number | null}} LevelLoad */
/** @typedef {{object: string, level: string, message: string}} LevelFailure */
/** @typedef {{where: string, message: string, at: number}} ErrorEntry */
/** @typedef {{picks: Pick[], teleports: Teleport[], levelLoads: LevelLoad[], levelFailures: LevelFailure[], errors: ErrorEntry[]}} Logs */
/** @typedef {{value?: number, text?: string, kind: string, feeds: Record<string, number | undefined>, emissiveIntensity?: number, fillScale?: number}} SmartShown */

export const viewerState = {
  ready: false,
  mode: 'exhibition', // 'exhibition' | 'embed' | 'turntable'
  /** @type {string | null} */
  exhibition: null,
  /** @type {boolean | null} */
  webgl: null,
  frames: 0,
  xrFrames: 0,
  inXR: false,
  /** @type {Record<string, string | null>} handedness -> what its ray points at: an object id, 'panel', 'floor' or null */
  xrHover: {},
  xrSupported: false,
  xrFades: 0, // jumps to a view point in a headset (each fades out and back in)
  /** @type {number | null} ms since navigation start: first frame drawn at all */
  firstPaintAt: null,
  /** @type {number | null} first frame with every object's lowest level (or its placeholder) in place */
  firstFrameAt: null,
  /** @type {number | null} every object at the highest level the budget and screen size allow */
  allHighAt: null,
  /** @type {number | null} all resources (HTML, modules, manifest, GLBs) finished before firstFrameAt */
  bytesBeforeFirstFrame: null,
  /** @type {number | null} bundle files only */
  assetBytesBeforeFirstFrame: null,
  assetBytesTotal: 0, // bundle files fetched so far
  logLimit: LOG_LIMIT,
  /** every entry ever recorded in each log below, also those the log no longer keeps */
  counts: { picks: 0, teleports: 0, levelLoads: 0, levelFailures: 0, errors: 0 },
  /** @type {LevelLoad[]} in the order they started */
  levelLoads: [],
  /** @type {LevelFailure[]} */
  levelFailures: [],
  /** @type {Record<string, string>} object id -> displayed level name */
  levels: {},
  /** @type {string[]} objects shown as a neutral stand-in because no level loaded */
  placeholders: [],
  /** glass meshes of vitrines found in the architecture (all vitrines share one) */
  vitrines: 0,
  render: { calls: 0, triangles: 0, maxTriangles: 0, maxCalls: 0, cpuMs: 0, cpuMsMax: 0 },
  budget: { triangles: 0, gpuTextureBytes: 0, usedTriangles: 0, usedGpuTextureBytes: 0, maxUsedTriangles: 0, fixedTriangles: 0 },
  /** @type {Pick[]} via: 'mouse'|'controller'|'keyboard'|'api'|'touch'|'tour'|'room' */
  picks: [],
  /** @type {Teleport[]} */
  teleports: [],
  viewerPos: { x: 0, y: 0, z: 0, yaw: 0 },
  /** @type {string | null} */
  selected: null,
  /** @type {{open: boolean, id: string | null, lang: string | null, title: string | null, vr: boolean, vrTitle?: string, vrLang?: string, vrSettings?: boolean, vrFigures?: string[], lastReaction?: string | null, lastHit?: {x: number, y: number, button: string | null}}} */
  panel: { open: false, id: null, lang: null, title: null, vr: false },
  /** @type {string | null} */
  language: null,
  ws: {
    status: 'off', connects: 0, reconnects: 0, received: 0, sent: 0, ticks: 0,
    /** @type {string[]} types of the last LOG_LIMIT text messages */
    messages: [],
    /** @type {string | null} */
    lastError: null,
    /** @type {number | null} */
    selfId: null,
    /** @type {number | null} */
    lastClose: null,
    /** @type {number | null} */
    nextRetryMs: null,
    /** @type {string | null} */
    room: null,
    guide: false,
  },
  /** @type {{id: number, name: string, guide: boolean}[]} others in the room */
  visitors: [],
  avatars: 0,
  avatarsKnown: 0,
  /** @type {Record<string, {x: number, y: number, z: number}>} */
  avatarPositions: {},
  /** @type {{id: number, emoji: string, name: string, shown: boolean, at: number}[]} others' reactions, as received (shown: above their avatar) */
  reactions: [],
  reactionsSent: 0,
  /** @type {{id: string | null, stop: number, stops?: number, following: boolean, leading: boolean, narration: string | null, spoken: number, spokenLang?: string, caption?: string | null}} */
  tour: { id: null, stop: -1, following: false, leading: false, narration: null, spoken: 0 },
  /** @type {Record<string, object>} feed id -> latest reading */
  feeds: {},
  /** @type {{open: boolean, goals: string[], shown: number}} the programme panel */
  programme: { open: false, goals: [], shown: 0 },
  /** @type {Record<string, SmartShown>} exhibit id -> what its model shows */
  smart: {},
  /** @type {Record<string, import('./smart.js').GoalFigure[]>} feed id -> the server's goal figures */
  figures: {},
  snapTurns: 0,
  /** @type {{vr: boolean, lift: number, distance: number, spin: number} | null} the one-object embed */
  turntable: null,
  /** @type {ErrorEntry[]} */
  errors: [],
};

/**
 * Appends to a list, dropping its oldest entries beyond `limit`.
 * @template T
 * @param {T[]} list
 * @param {T} entry
 * @param {number} [limit]
 */
export function keepLast(list, entry, limit = LOG_LIMIT) {
  list.push(entry);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/**
 * Records an entry in one of viewerState's logs (which keeps the last LOG_LIMIT) and counts it.
 * @template {keyof Logs} K
 * @param {K} log
 * @param {Logs[K][number]} entry
 */
export function record(log, entry) {
  keepLast(/** @type {Logs[K][number][]} */ (viewerState[log]), entry);
  viewerState.counts[log]++;
}

export function now() {
  return performance.now();
}

/**
 * @param {string} where
 * @param {unknown} err
 */
export function reportError(where, err) {
  const message = typeof err === 'object' && err !== null && 'message' in err && err.message ? String(err.message) : String(err);
  record('errors', { where, message, at: Math.round(now()) });
  console.warn(`[vrculture] ${where}: ${message}`);
}

/**
 * Bytes of everything fetched (per Resource Timing) that finished by the time `until`.
 * @param {number} until
 * @param {(url: string) => boolean} [filter]
 */
export function bytesFetchedBy(until, filter = () => true) {
  let total = 0;
  for (const e of /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType('resource'))) {
    if (e.responseEnd <= until && filter(e.name)) total += e.encodedBodySize || e.transferSize || 0;
  }
  const nav = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0]);
  if (nav && filter(nav.name)) total += nav.encodedBodySize || 0;
  return total;
}

window.viewerState = viewerState;
