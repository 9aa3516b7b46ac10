// window.viewerState: counters and logs that the end-to-end tests and benchmarks read. Plain data
// only (JSON-serialisable), updated by the modules as things happen.
export const viewerState = {
  ready: false,
  mode: 'exhibition', // 'exhibition' | 'embed' | 'turntable'
  exhibition: null,
  webgl: null,
  frames: 0,
  xrFrames: 0,
  inXR: false,
  xrHover: {}, // handedness -> what its ray points at: an object id, 'panel', 'floor' or null
  xrSupported: false,
  firstPaintAt: null, // ms since navigation start: first frame drawn at all
  firstFrameAt: null, // first frame with every object's lowest level (or its placeholder) in place
  allHighAt: null, // every object at the highest level the budget and screen size allow
  bytesBeforeFirstFrame: null, // all resources (HTML, modules, manifest, GLBs) finished before firstFrameAt
  assetBytesBeforeFirstFrame: null, // bundle files only
  assetBytesTotal: 0, // bundle files fetched so far
  levelLoads: [], // {object, level, index, ok, bytes, startedAt, doneAt}
  levelFailures: [],
  levels: {}, // object id -> displayed level name
  placeholders: [], // objects shown as a neutral stand-in because no level loaded
  render: { calls: 0, triangles: 0, maxTriangles: 0, maxCalls: 0 },
  budget: { triangles: 0, gpuTextureBytes: 0, usedTriangles: 0, usedGpuTextureBytes: 0, maxUsedTriangles: 0, fixedTriangles: 0 },
  picks: [], // {id, via: 'mouse'|'controller'|'keyboard'|'api'|'touch', at}
  teleports: [], // {x, z, via}
  viewerPos: { x: 0, y: 0, z: 0, yaw: 0 },
  selected: null,
  panel: { open: false, id: null, lang: null, title: null, vr: false },
  language: null,
  ws: { status: 'off', connects: 0, reconnects: 0, messages: [], received: 0, sent: 0, ticks: 0, lastError: null, selfId: null },
  visitors: [], // others in the room: {id, name, guide}
  avatars: 0,
  avatarPositions: {},
  tour: { id: null, stop: -1, following: false, leading: false, narration: null, spoken: 0 },
  feeds: {}, // feed id -> latest reading
  smart: {}, // exhibit id -> {value, text, node values}
  errors: [],
};

export function now() {
  return performance.now();
}

export function reportError(where, err) {
  const message = err && err.message ? err.message : String(err);
  viewerState.errors.push({ where, message, at: Math.round(now()) });
  console.warn(`[vrculture] ${where}: ${message}`);
}

/** Bytes of everything fetched (per Resource Timing) that finished by the time `until`. */
export function bytesFetchedBy(until, filter = () => true) {
  let total = 0;
  for (const e of performance.getEntriesByType('resource')) {
    if (e.responseEnd <= until && filter(e.name)) total += e.encodedBodySize || e.transferSize || 0;
  }
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav && filter(nav.name)) total += nav.encodedBodySize || 0;
  return total;
}

window.viewerState = viewerState;
