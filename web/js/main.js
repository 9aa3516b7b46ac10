// @ts-check
// Entry point of the exhibition page (/exhibitions/{id}) and of the embed page (/embed/{id} and
// /embed/{id}/{object}): reads the manifest, builds the overlays and the 3D viewer, connects the
// room, and exposes window.viewer (the page's API; the embed's postMessage calls the same actions).
// Hooks into the internals for the end-to-end tests go to window.viewerTest, and only when the
// test set window.vrcultureTestHooks before the page loaded.
import { exhibitionIdFromPath, loadManifest, selectableIndex } from './manifest.js';
import { keepFragmentLinksOnPage, publicPath, routePath } from './base.js';
import { chooseLanguage, pick, t } from './i18n.js';
import { viewerState, now, record, reportError } from './state.js';
import { listen } from './events.js';
import { webglAvailable } from './scene.js';
import { Overlay, showFatal } from './ui.js';
import { readPreference, writePreference } from './storage.js';
import { viewPointOf } from './viewpoint.js';

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

/** @typedef {import('./manifest.js').Manifest} Manifest */
/** @typedef {{id: number, name: string, color?: string, guide?: boolean, picked?: string | null}} Visitor */

/** The page: manifest, overlays, viewer, XR, room and tours. An EventTarget: fires `xr`. */
export class App extends EventTarget {
  constructor() {
    super();
    /** @type {import('./viewer.js').Viewer | null} */
    this.viewer = null;
    /** @type {import('./rooms.js').RoomClient | null} */
    this.rooms = null;
    /** @type {import('./xr.js').XRInput | null} */
    this.xr = null;
    /** @type {import('./smart.js').SmartExhibits | null} */
    this.smart = null;
    /** @type {import('./vrpanel.js').VRPanel | null} */
    this.vrPanel = null;
    /** @type {import('./avatars.js').Avatars | null} */
    this.avatars = null;
    /** @type {import('./reactions.js').Reactions | null} */
    this.reactions = null;
    /** @type {import('./tours.js').Tours | null} */
    this.tours = null;
    /** @type {import('./ui.js').Overlay | null} */
    this.overlay = null;
    /** @type {((x: number, y: number, via?: string) => void) | null} desktop controls' click, for tests */
    this.clickAt = null;
    /** @type {Map<number, Visitor>} */
    this.visitors = new Map();
    this.params = new URLSearchParams(location.search);
    this.embedded = false;
    /** @type {string | null} */
    this.objectOnly = null;
    /** @type {string | null} the object a deep link (/exhibitions/{id}/objects/{object}) opens at */
    this.linked = null;
    this.mode = 'exhibition';
    /** @type {Manifest} */
    this.manifest = /** @type {Manifest} */ ({});
    /** @type {Map<string, import('./manifest.js').Selectable>} */
    this.index = new Map();
    this.language = 'en';
    this.statusText = '';
  }

  /** @param {import('./i18n.js').Text} x */
  text(x) {
    return pick(x, this.language, this.manifest?.default_language);
  }

  async boot() {
    performance.setResourceTimingBufferSize?.(2000);
    const where = exhibitionIdFromPath();
    this.embedded = routePath().startsWith('/embed/');
    if (!where) throw new Error('no exhibition in this address');
    this.objectOnly = this.embedded ? where.object : null;
    this.linked = this.embedded ? null : where.object;
    this.mode = this.objectOnly ? 'turntable' : this.embedded ? 'embed' : 'exhibition';
    document.body.dataset.mode = this.mode;
    this.manifest = await loadManifest(where.id);
    if (this.objectOnly && !this.manifest.objects.some((o) => o.id === this.objectOnly)) {
      throw new Error(`object "${this.objectOnly}" is not in exhibition "${where.id}"`);
    }
    this.index = selectableIndex(this.manifest);
    this.language = chooseLanguage(this.manifest.languages, this.manifest.default_language);
    viewerState.language = this.language;
    this.overlay = new Overlay(this);
    this.status(t(this.language, 'loading'), 0);

    const { Tours } = await import('./tours.js');
    const tours = new Tours(this);
    this.tours = tours;
    tours.wire();

    if (!webglAvailable()) {
      viewerState.webgl = false;
      showFatal(t(this.language, 'noWebGL'));
      this.status('');
      if (this.linked) this.select(this.linked, 'link'); // the panel still tells about it
      viewerState.ready = true;
      this.announceReady();
      return;
    }
    viewerState.webgl = true;
    await this.startViewer(tours);
    this.announceReady();
  }

  /** @param {import('./tours.js').Tours} tours */
  async startViewer(tours) {
    const [{ Viewer }, { installDesktopControls }, { SmartExhibits }, { VRPanel }] = await Promise.all([
      import('./viewer.js'), import('./controls.js'), import('./smart.js'), import('./vrpanel.js')]);
    const stage = /** @type {HTMLElement} */ (document.querySelector('#stage'));
    const viewer = new Viewer({ container: stage, manifest: this.manifest, language: this.language, mode: this.mode });
    this.viewer = viewer;
    if (window.vrcultureTestHooks === true) viewer.frameLog = []; // read through viewerTest.frameLog()
    viewer.renderer.domElement.setAttribute('aria-label', `${this.text(this.manifest.title)}: 3D`);
    const smart = new SmartExhibits(viewer);
    this.smart = smart;
    viewer.smart = smart;
    const vrPanel = new VRPanel(this);
    this.vrPanel = vrPanel;
    vrPanel.attach(viewer.scene);
    this.overlay?.programme.attachWall(viewer).catch((err) => reportError('programme wall', err));
    listen(viewer, 'programme', (/** @type {{annotation: string | null}} */ e) => this.overlay?.programme.onWallHit(e.annotation));
    listen(viewer, 'select', (/** @type {import('./viewer.js').SelectDetail} */ e) => this.onSelect(e));
    listen(viewer, 'reading', (/** @type {{exhibit?: string}} */ e) => {
      if (e.exhibit) { this.overlay?.refreshLive(e.exhibit); if (vrPanel.current?.id === e.exhibit) vrPanel.refresh(); }
      this.overlay?.programme.refreshLive();
    });
    listen(viewer, 'level', () => this.progress());

    if (this.objectOnly) {
      const { installTurntable } = await import('./turntable.js');
      installTurntable(viewer, this.objectOnly);
    } else {
      this.clickAt = installDesktopControls(viewer).clickAt;
    }
    // assets start loading now; XR and the room are set up while they arrive
    const started = viewer.start({ objectsOnly: this.objectOnly ? [this.objectOnly] : null });
    // a deep link (a wall label's QR code): stand at the object's view point with its panel open
    if (this.linked) this.goTo(this.linked, 'link');
    // the one-object embed offers VR too (the turntable places and turns the object there)
    await this.setupXR(viewer);
    if (this.objectOnly && this.xr) this.xr.stickTurns = false; // the thumbstick turns the object
    if (!this.objectOnly) {
      await this.setupRoom(viewer, smart, tours);
      if (!this.rooms) this.primeReadings(smart);
      for (const s of this.manifest.smart_exhibits) smart.fetchFigures(s.id); // the room pushes updates
    }
    await started;
    this.status('');
    if (viewerState.counts.levelFailures) this.status(t(this.language, 'failedLevel'));
    const initial = this.params.get('object');
    if (initial && this.index.has(initial)) this.select(initial, 'api');
    const tour = this.params.get('tour'); // the studio's "play this tour" link
    if (tour && !initial) this.startTour(tour);
  }

  /** @param {import('./viewer.js').Viewer} viewer */
  async setupXR(viewer) {
    const { xrSupported, XRInput } = await import('./xr.js');
    const button = /** @type {HTMLButtonElement | null} */ (document.querySelector('#enter-vr'));
    this.xr = new XRInput(this, viewer);
    listen(this, 'xr', (/** @type {{presenting: boolean}} */ { presenting }) => {
      if (button) button.textContent = t(this.language, presenting ? 'exitVR' : 'enterVR');
      if (this.vrPanel?.current) this.vrPanel.place();
    });
    const supported = await xrSupported();
    // VR is offered once the headset's own parts are compiled and uploaded (frames behind the
    // loading status, a fraction of a second): a session entered at once skips those steps
    if (supported) await this.xr.prepare();
    viewerState.xrSupported = supported;
    if (button && supported) {
      button.hidden = false;
      button.addEventListener('click', () => (viewerState.inXR ? this.exitVR() : this.enterVR()));
    }
  }

  /**
   * @param {import('./viewer.js').Viewer} viewer
   * @param {import('./smart.js').SmartExhibits} smart
   * @param {import('./tours.js').Tours} tours
   */
  async setupRoom(viewer, smart, tours) {
    const wanted = this.embedded ? this.params.get('room') === '1' : this.params.get('room') !== '0';
    if (!wanted) return;
    const { RoomClient } = await import('./rooms.js');
    const { Avatars } = await import('./avatars.js');
    const { Reactions } = await import('./reactions.js');
    const avatars = new Avatars(viewer);
    this.avatars = avatars;
    const given = this.params.get('name');
    if (given) writePreference('name', given.slice(0, 32));
    const name = (given || readPreference('name') || t(this.language, 'visitor')).slice(0, 32);
    let color = readPreference('color');
    if (!color || !/^#[0-9a-f]{6}$/i.test(color)) {
      color = PALETTE[Math.floor(Math.random() * PALETTE.length)];
      writePreference('color', color);
    }
    const rooms = new RoomClient({
      exhibition: this.manifest.id, name, color, lang: this.language, guideCode: this.params.get('guide_code'),
    });
    this.rooms = rooms;
    /** @typedef {import('./rooms.js').RoomMessage} RoomMessage */
    listen(rooms, 'welcome', (/** @type {RoomMessage} */ m) => {
      this.visitors = new Map((m.visitors || []).map((/** @type {Visitor} */ v) => [v.id, v]));
      this.renderGuides();
      avatars.reset(m.visitors || []);
      for (const [feed, reading] of Object.entries(m.readings || {})) smart.ingest(feed, reading);
      tours.rejoin(m.visitors || []);
      if (m.tour) tours.onRoomTour({ type: 'tour', ...m.tour });
      if (this.statusText === t(this.language, 'offline')) this.status('');
    });
    listen(rooms, 'joined', (/** @type {RoomMessage} */ m) => {
      this.visitors.set(m.visitor.id, m.visitor);
      this.renderGuides();
      avatars.add(m.visitor);
    });
    listen(rooms, 'left', (/** @type {RoomMessage} */ m) => { this.visitors.delete(m.id); this.renderGuides(); avatars.remove(m.id); });
    listen(rooms, 'picked', (/** @type {RoomMessage} */ m) => { const v = this.visitors.get(m.id); if (v) v.picked = m.object; });
    listen(rooms, 'state', (/** @type {{visitors: Map<number, import('./posecodec.js').StateParts>}} */ frame) => avatars.apply(frame.visitors));
    listen(rooms, 'tour', (/** @type {RoomMessage} */ m) => tours.onRoomTour(m));
    listen(rooms, 'reading', (/** @type {RoomMessage} */ m) => smart.ingest(m.feed, m.reading));
    listen(rooms, 'figures', (/** @type {RoomMessage} */ m) => smart.ingestFigures(m.feed, m.figures));
    listen(rooms, 'error', (/** @type {RoomMessage} */ m) => { if (m.code === 'bad_guide_code') this.notice(t(this.language, 'badGuideCode')); });
    listen(rooms, 'status', (/** @type {string} */ s) => { if (s === 'closed' && viewerState.ready) this.status(t(this.language, 'offline')); });
    this.reactions = new Reactions(this, rooms, avatars);
    this.reactions.wire();
    listen(rooms, 'welcome', () => { if (this.vrPanel?.settingsOpen) this.vrPanel.drawSettings(); });
    viewer.onFrame(() => this.sendPose());
    rooms.connect();
    this.wireLeadForm(rooms);
  }

  /**
   * A guide types the code the curator gave them; the room then lets them lead tours.
   * @param {import('./rooms.js').RoomClient} rooms
   */
  wireLeadForm(rooms) {
    const form = /** @type {HTMLFormElement | null} */ (document.querySelector('#lead-form'));
    const input = /** @type {HTMLInputElement | null} */ (form?.querySelector('#guide-code'));
    if (!form || !input) return;
    form.hidden = this.manifest.tours.length === 0;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const code = input.value.trim();
      if (code) rooms.lead(code);
      input.value = '';
    });
  }

  /** Guides present in the room, each with a "follow" button (the tour then moves you). */
  renderGuides() {
    const box = /** @type {HTMLElement | null} */ (document.querySelector('#guides'));
    const guides = [...this.visitors.values()].filter((v) => v.guide);
    viewerState.visitors = [...this.visitors.values()].map(({ id, name, guide }) => ({ id, name, guide: !!guide }));
    if (!box) return;
    box.hidden = guides.length === 0;
    box.replaceChildren(...guides.map((g) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.guide = String(g.id);
      b.textContent = `${t(this.language, 'joinGuide')}: ${g.name}`;
      b.addEventListener('click', () => this.tours?.follow(g.id));
      return b;
    }));
  }

  /**
   * Without a room, smart exhibits still show their newest reading.
   * @param {import('./smart.js').SmartExhibits} smart
   */
  primeReadings(smart) {
    for (const s of this.manifest.smart_exhibits) smart.fetchHistory(s.id, 1);
  }

  sendPose() {
    const v = this.viewer;
    if (!v || !this.rooms || !this.rooms.open) return;
    /** @param {import('three').Object3D} obj */
    const part = (obj) => {
      obj.updateMatrixWorld(true);
      const p = obj.getWorldPosition(v.camera.position.clone());
      const q = obj.getWorldQuaternion(v.camera.quaternion.clone());
      return { p: [p.x, p.y, p.z], q: [q.x, q.y, q.z, q.w] };
    };
    /** @type {import('./posecodec.js').PoseParts} */
    const parts = { head: part(v.camera) }; // in XR three keeps the head pose on the user camera
    if (v.renderer.xr.isPresenting && this.xr) {
      for (const { c } of this.xr.controllers) {
        const src = /** @type {XRInputSource | null} */ (c.userData.source);
        if (src && (src.handedness === 'left' || src.handedness === 'right') && c.visible) parts[src.handedness] = part(c);
      }
    }
    this.rooms.sendPose(parts, performance.now());
  }

  /** @param {{id: string | null, via: string, annotation: string | null, narration?: string | null}} selection */
  onSelect({ id, via, annotation, narration = null }) {
    if (id == null) {
      this.overlay?.hide();
      this.vrPanel?.hide();
    } else {
      this.overlay?.open(id, { annotation, focus: via === 'keyboard' });
      if (this.vrPanel) {
        if (viewerState.inXR || via === 'controller') this.vrPanel.show(id, annotation, { narration });
        else this.vrPanel.hide();
      }
      if (this.index.get(id)?.kind === 'smart') { this.smart?.fetchHistory(id); this.smart?.fetchFigures(id); }
    }
    this.showInAddress(id);
    if (via !== 'room') this.rooms?.send({ type: 'pick', object: id });
    this.postToParent({ type: 'vrculture:select', object: id });
  }

  /**
   * Selects an object or exhibit (null closes the panels); works without WebGL too.
   * @param {string | null} id
   * @param {string} [via]
   * @param {string | null} [annotation]
   * @param {{narration?: string | null}} [extra]
   */
  select(id, via = 'api', annotation = null, extra = {}) {
    if (id != null && !this.index.has(id)) return false;
    if (this.viewer) {
      return this.viewer.select(id, via, annotation, extra);
    }
    viewerState.selected = id;
    if (id != null) record('picks', { id, via, annotation, at: Math.round(now()) });
    this.onSelect({ id, via, annotation, ...extra });
    return true;
  }

  /**
   * Takes the visitor to an object's view point, facing it, and opens its panel (the object
   * list, a deep link). In a headset the view fades out and back in around the jump.
   * @param {string} id
   * @param {string} [via]
   */
  goTo(id, via = 'api') {
    const entry = this.index.get(id);
    const viewer = this.viewer;
    if (!entry) return false;
    const vp = viewer ? viewPointOf(entry.record, (x, z) => viewer.canStandAt(x, z)) : null;
    if (viewer && vp) {
      const move = () => {
        viewer.teleport(vp.x, vp.z, via, vp.yaw);
        if (this.vrPanel?.current) this.vrPanel.place(); // the panel comes along, in front of the visitor
      };
      if (viewerState.inXR && this.xr) {
        this.xr.fadeMove(move);
      } else {
        viewer.camera.rotation.x = 0; // level: the view point is chosen for eye height
        move();
      }
    }
    return this.select(id, via);
  }

  /**
   * The address names the open object (its deep link), so that it can be shared or bookmarked.
   * @param {string | null} id
   */
  showInAddress(id) {
    if (this.mode !== 'exhibition') return;
    const base = publicPath(`exhibitions/${encodeURIComponent(this.manifest.id)}`);
    const path = id != null && this.index.get(id)?.kind === 'object' ? `${base}/objects/${encodeURIComponent(id)}` : base;
    if (location.pathname !== path) history.replaceState(history.state, '', path + location.search + location.hash);
  }

  /** @param {string} lang */
  setLanguage(lang) {
    if (!this.manifest.languages.includes(lang)) return false;
    this.language = lang;
    viewerState.language = lang;
    this.viewer?.setLanguage(lang);
    this.overlay?.render();
    this.vrPanel?.refresh();
    this.tours?.render();
    this.reactions?.render();
    return true;
  }

  /** @param {string} id */
  startTour(id) {
    return this.tours ? this.tours.start(id) : false;
  }

  async enterVR() {
    return this.xr ? this.xr.enter() : false;
  }

  async exitVR() {
    return this.xr ? this.xr.exit() : false;
  }

  /**
   * @param {string} text
   * @param {number | null} [progress]
   */
  status(text, progress = null) {
    this.statusText = text;
    this.overlay?.status(text, { progress });
  }

  /**
   * A message that goes away by itself.
   * @param {string} text
   */
  notice(text, ms = 8000) {
    this.status(text);
    setTimeout(() => { if (this.statusText === text) this.status(''); }, ms);
  }

  progress() {
    if (viewerState.firstFrameAt != null) return;
    const total = this.objectOnly ? 1 : this.manifest.objects.length;
    // an object is done when it shows a level or, every level failed, its stand-in
    const done = Object.keys(viewerState.levels).length;
    this.status(`${t(this.language, 'loading')} ${done}/${total}`, total ? done / total : null);
  }

  announceReady() {
    this.postToParent({ type: 'vrculture:ready', exhibition: this.manifest.id, object: this.objectOnly, webgl: viewerState.webgl });
  }

  /** @param {{type: string} & Record<string, unknown>} msg */
  postToParent(msg) {
    // the museum page listens through vrculture-embed.js; payloads carry nothing private
    if (window.parent !== window) window.parent.postMessage(msg, '*');
  }
}

/**
 * window.viewer: what a page (or a kiosk's own script) may ask of the viewer.
 * @param {App} app
 */
export function publicApi(app) {
  return {
    enterVR: () => app.enterVR(),
    exitVR: () => app.exitVR(),
    /** @param {string | null} id @param {string | null} [annotation] */
    select: (id, annotation = null) => app.select(id, 'api', annotation),
    /** @param {string} id the object or exhibit to stand in front of, with its panel open */
    goTo: (id) => app.goTo(id, 'api'),
    /** @param {string} lang */
    setLanguage: (lang) => app.setLanguage(lang),
    /** @param {string} id */
    startTour: (id) => app.startTour(id),
    nextStop: () => app.tours?.next() ?? false,
    previousStop: () => app.tours?.previous() ?? false,
    endTour: () => app.tours?.end(),
    /** @param {number} guideId */
    followGuide: (guideId) => app.tours?.follow(guideId) ?? false,
    /** @param {string} code */
    lead: (code) => app.rooms?.lead(code),
    /** @param {string} emoji one of the room's reactions (👍 ❤️ 👏 😮 😂 ❓) */
    react: (emoji) => app.reactions?.send(emoji) ?? false,
    speak: (on = true) => app.tours?.toggleSpeech(on),
    /** @param {number} x @param {number} z @param {number | null} [yaw] */
    teleport: (x, z, yaw = null) => (app.viewer ? app.viewer.teleport(x, z, 'api', yaw) : false),
  };
}

/**
 * window.viewerTest: the end-to-end tests' hooks into the internals (clicks at a screen point,
 * projections, pixel samples, a dropped room connection). Never part of the public API.
 * @param {App} app
 */
export function testHooks(app) {
  return {
    get app() { return app; },
    /** @param {number} x @param {number} y */
    clickAt: (x, y) => app.clickAt?.(x, y),
    /** @param {number} x @param {number} y @param {number} z */
    project: (x, y, z) => app.viewer?.project(x, y, z),
    /** @param {string} id */
    objectCentre: (id) => app.viewer?.objectCentre(id)?.toArray(),
    /** @param {string} id */
    unoccludedCentre: (id) => app.viewer?.unoccludedCentre(id) ?? null,
    /** @param {number} x @param {number} y */
    sample: (x, y) => app.viewer?.sample(x, y) ?? Promise.reject(new Error('no 3D view on this page')),
    disconnectRoom: () => app.rooms?.ws?.close(4001),
    /** per frame since the page started: [frame number, levels swapped in, textures uploaded, drawn,
     * programs compiled or linked before the draw, programs compiled by the draw] */
    frameLog: () => app.viewer?.frameLog ?? [],
    /** what the renderer drew in the last frame (both eyes in XR, as three counts them) */
    renderInfo: () => {
      const r = app.viewer?.renderer.info.render;
      return r ? { calls: r.calls, triangles: r.triangles, frame: viewerState.frames } : null;
    },
  };
}

/** @param {App} app */
function exposeApi(app) {
  window.viewer = publicApi(app);
  // set by a test (an init script) before the page loads; a link cannot set it
  if (window.vrcultureTestHooks === true) window.viewerTest = testHooks(app);
  window.addEventListener('message', (ev) => {
    if (window.parent === window || ev.source !== window.parent) return;
    const m = ev.data;
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    if (m.type === 'vrculture:select' && (typeof m.object === 'string' || m.object === null)) app.select(m.object, 'api');
    else if (m.type === 'vrculture:startTour' && typeof m.tour === 'string') app.tours?.start(m.tour);
    else if (m.type === 'vrculture:setLanguage' && typeof m.lang === 'string') app.setLanguage(m.lang);
  });
}

keepFragmentLinksOnPage();  // the skip link, under the page's <base>
const app = new App();
exposeApi(app);
app.boot().catch((err) => {
  const message = err instanceof Error ? err.message : String(err);
  reportError('start', err);
  showFatal(message);
  app.postToParent({ type: 'vrculture:error', message });
});
