// Entry point of the exhibition page (/exhibitions/{id}) and of the embed page (/embed/{id} and
// /embed/{id}/{object}): reads the manifest, builds the overlays and the 3D viewer, connects the
// room, and exposes window.viewer (the page's API, used by tests and by the embed's postMessage).
import { exhibitionIdFromPath, loadManifest, selectableIndex } from './manifest.js';
import { chooseLanguage, pick, t } from './i18n.js';
import { viewerState, reportError } from './state.js';
import { webglAvailable } from './scene.js';
import { Overlay, showFatal } from './ui.js';
import { readPreference, writePreference } from './storage.js';

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

class App {
  constructor() {
    this.listeners = new Map();
    this.viewer = null;
    this.rooms = null;
    this.visitors = new Map();
    this.params = new URLSearchParams(location.search);
  }

  emit(name, payload) {
    for (const fn of this.listeners.get(name) || []) fn(payload);
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
  }

  text(x) {
    return pick(x, this.language, this.manifest?.default_language);
  }

  async boot() {
    performance.setResourceTimingBufferSize?.(2000);
    const where = exhibitionIdFromPath();
    this.embedded = location.pathname.startsWith('/embed/');
    if (!where) throw new Error('no exhibition in this address');
    this.objectOnly = this.embedded ? where.object : null;
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
    this.tours = new Tours(this);
    this.tourBar = this.tours;
    this.tours.wire();

    if (!webglAvailable()) {
      viewerState.webgl = false;
      showFatal(t(this.language, 'noWebGL'));
      this.status('');
      viewerState.ready = true;
      this.announceReady();
      return;
    }
    viewerState.webgl = true;
    await this.startViewer();
    this.announceReady();
  }

  async startViewer() {
    const [{ Viewer }, { installDesktopControls }, { SmartExhibits }, { VRPanel }] = await Promise.all([
      import('./viewer.js'), import('./controls.js'), import('./smart.js'), import('./vrpanel.js')]);
    const stage = document.querySelector('#stage');
    const viewer = new Viewer({ container: stage, manifest: this.manifest, language: this.language, mode: this.mode });
    this.viewer = viewer;
    viewer.renderer.domElement.setAttribute('aria-label', `${this.text(this.manifest.title)}: 3D`);
    this.smart = new SmartExhibits(viewer);
    viewer.smart = this.smart;
    this.vrPanel = new VRPanel(this);
    this.vrPanel.attach(viewer.scene);
    viewer.on('select', (e) => this.onSelect(e));
    viewer.on('reading', (e) => {
      if (e.exhibit) { this.overlay.refreshLive(e.exhibit); if (this.vrPanel.current?.id === e.exhibit) this.vrPanel.refresh(); }
    });
    viewer.on('level', () => this.progress());

    if (this.mode === 'turntable') {
      const { installTurntable } = await import('./turntable.js');
      installTurntable(viewer, this.objectOnly);
    } else {
      installDesktopControls(viewer);
    }
    // assets start loading now; XR and the room are set up while they arrive
    const started = viewer.start({ objectsOnly: this.objectOnly ? [this.objectOnly] : null });
    if (this.mode !== 'turntable') {
      await this.setupXR();
      await this.setupRoom();
      if (!this.rooms) this.primeReadings();
    }
    await started;
    this.status('');
    if (viewerState.levelFailures.length) this.status(t(this.language, 'failedLevel'));
    const initial = this.params.get('object');
    if (initial && this.index.has(initial)) this.select(initial, 'api');
  }

  async setupXR() {
    const { xrSupported, XRInput } = await import('./xr.js');
    const button = document.querySelector('#enter-vr');
    this.xr = new XRInput(this);
    this.on('xr', ({ presenting }) => {
      if (button) button.textContent = t(this.language, presenting ? 'exitVR' : 'enterVR');
      if (this.vrPanel.current) this.vrPanel.place();
    });
    const supported = await xrSupported();
    viewerState.xrSupported = supported;
    if (button && supported) {
      button.hidden = false;
      button.addEventListener('click', () => (viewerState.inXR ? this.exitVR() : this.enterVR()));
    }
  }

  async setupRoom() {
    const wanted = this.embedded ? this.params.get('room') === '1' : this.params.get('room') !== '0';
    if (!wanted) return;
    const { RoomClient } = await import('./rooms.js');
    const { Avatars } = await import('./avatars.js');
    const avatars = new Avatars(this.viewer);
    this.avatars = avatars;
    if (this.params.get('name')) writePreference('name', this.params.get('name').slice(0, 32));
    const name = (this.params.get('name') || readPreference('name') || t(this.language, 'visitor')).slice(0, 32);
    let color = readPreference('color');
    if (!/^#[0-9a-f]{6}$/i.test(color || '')) {
      color = PALETTE[Math.floor(Math.random() * PALETTE.length)];
      writePreference('color', color);
    }
    this.rooms = new RoomClient({
      exhibition: this.manifest.id, name, color, lang: this.language, guideCode: this.params.get('guide_code'),
      handlers: {
        welcome: (m) => {
          this.visitors = new Map((m.visitors || []).map((v) => [v.id, v]));
          this.renderGuides();
          avatars.reset(m.visitors || []);
          for (const [feed, reading] of Object.entries(m.readings || {})) this.smart.ingest(feed, reading);
          this.tours.rejoin(m.visitors || []);
          if (m.tour) this.tours.onRoomTour({ type: 'tour', ...m.tour });
          if (this.statusText === t(this.language, 'offline')) this.status('');
        },
        joined: (m) => { this.visitors.set(m.visitor.id, m.visitor); this.renderGuides(); avatars.add(m.visitor); },
        left: (m) => { this.visitors.delete(m.id); this.renderGuides(); avatars.remove(m.id); },
        picked: (m) => { const v = this.visitors.get(m.id); if (v) v.picked = m.object; },
        state: (frame) => avatars.apply(frame.visitors),
        tour: (m) => this.tours.onRoomTour(m),
        reading: (m) => this.smart.ingest(m.feed, m.reading),
        error: (m) => { if (m.code === 'bad_guide_code') this.notice(t(this.language, 'badGuideCode')); },
        status: (s) => { if (s === 'closed' && viewerState.ready) this.status(t(this.language, 'offline')); },
      },
    });
    this.viewer.onFrame(() => this.sendPose());
    this.rooms.connect();
    this.wireLeadForm();
  }

  /** A guide types the code the curator gave them; the room then lets them lead tours. */
  wireLeadForm() {
    const form = document.querySelector('#lead-form');
    if (!form) return;
    form.hidden = this.manifest.tours.length === 0;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const code = form.querySelector('#guide-code').value.trim();
      if (code) this.rooms.lead(code);
      form.querySelector('#guide-code').value = '';
    });
  }

  /** Guides present in the room, each with a "follow" button (the tour then moves you). */
  renderGuides() {
    const box = document.querySelector('#guides');
    const guides = [...this.visitors.values()].filter((v) => v.guide);
    viewerState.visitors = [...this.visitors.values()].map(({ id, name, guide }) => ({ id, name, guide }));
    if (!box) return;
    box.hidden = guides.length === 0;
    box.replaceChildren(...guides.map((g) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.guide = g.id;
      b.textContent = `${t(this.language, 'joinGuide')}: ${g.name}`;
      b.addEventListener('click', () => this.tours.follow(g.id));
      return b;
    }));
  }

  /** Without a room, smart exhibits still show their newest reading. */
  primeReadings() {
    for (const s of this.manifest.smart_exhibits) this.smart.fetchHistory(s.id, 1);
  }

  sendPose() {
    const v = this.viewer;
    if (!this.rooms || !this.rooms.open) return;
    const part = (obj) => {
      obj.updateMatrixWorld(true);
      const p = obj.getWorldPosition(new v.camera.position.constructor());
      const q = obj.getWorldQuaternion(new v.camera.quaternion.constructor());
      return { p: [p.x, p.y, p.z], q: [q.x, q.y, q.z, q.w] };
    };
    const parts = { head: part(v.camera) }; // in XR three keeps the head pose on the user camera
    if (v.renderer.xr.isPresenting && this.xr) {
      for (const { c } of this.xr.controllers) {
        const src = c.userData.source;
        if (src && src.handedness in { left: 1, right: 1 } && c.visible) parts[src.handedness] = part(c);
      }
    }
    this.rooms.sendPose(parts, performance.now());
  }

  onSelect({ id, via, annotation, narration }) {
    if (id == null) {
      this.overlay.hide();
      this.vrPanel?.hide();
    } else {
      this.overlay.open(id, { annotation, focus: via === 'keyboard' });
      if (this.vrPanel) {
        if (viewerState.inXR || via === 'controller') this.vrPanel.show(id, annotation, { narration });
        else this.vrPanel.hide();
      }
      if (this.index.get(id)?.kind === 'smart') this.smart?.fetchHistory(id);
    }
    if (via !== 'room') this.rooms?.send({ type: 'pick', object: id });
    this.postToParent({ type: 'vrculture:select', object: id });
  }

  /** Selects an object or exhibit (null closes the panels); works without WebGL too. */
  select(id, via = 'api', annotation = null, extra = {}) {
    if (id != null && !this.index.has(id)) return false;
    if (this.viewer) {
      return this.viewer.select(id, via, annotation, extra);
    }
    viewerState.selected = id;
    if (id != null) viewerState.picks.push({ id, via, annotation, at: Math.round(performance.now()) });
    this.onSelect({ id, via, annotation, ...extra });
    return true;
  }

  setLanguage(lang) {
    if (!this.manifest.languages.includes(lang)) return false;
    this.language = lang;
    viewerState.language = lang;
    this.viewer?.setLanguage(lang);
    this.overlay.render();
    this.vrPanel?.refresh();
    this.tours?.render();
    return true;
  }

  startTour(id) {
    return this.tours ? this.tours.start(id) : false;
  }

  async enterVR() {
    return this.xr ? this.xr.enter() : false;
  }

  async exitVR() {
    return this.xr ? this.xr.exit() : false;
  }

  status(text, progress = null) {
    this.statusText = text;
    this.overlay?.status(text, { progress });
  }

  /** A message that goes away by itself. */
  notice(text, ms = 8000) {
    this.status(text);
    setTimeout(() => { if (this.statusText === text) this.status(''); }, ms);
  }

  progress() {
    if (viewerState.firstFrameAt != null) return;
    const total = this.objectOnly ? 1 : this.manifest.objects.length;
    const done = new Set(viewerState.levelLoads.filter((l) => l.doneAt != null).map((l) => l.object)).size;
    this.status(`${t(this.language, 'loading')} ${done}/${total}`, total ? done / total : null);
  }

  announceReady() {
    this.postToParent({ type: 'vrculture:ready', exhibition: this.manifest.id, object: this.objectOnly, webgl: viewerState.webgl });
  }

  postToParent(msg) {
    // the museum page listens through vrculture-embed.js; payloads carry nothing private
    if (window.parent !== window) window.parent.postMessage(msg, '*');
  }
}

function exposeApi(app) {
  window.viewer = {
    enterVR: () => app.enterVR(),
    exitVR: () => app.exitVR(),
    select: (id, annotation = null) => app.select(id, 'api', annotation),
    setLanguage: (lang) => app.setLanguage(lang),
    startTour: (id) => app.startTour(id),
    nextStop: () => app.tours.next(),
    previousStop: () => app.tours.previous(),
    endTour: () => app.tours.end(),
    followGuide: (guideId) => app.tours.follow(guideId),
    lead: (code) => app.rooms?.lead(code),
    speak: (on = true) => app.tours.toggleSpeech(on),
    teleport: (x, z, yaw = null) => (app.viewer ? app.viewer.teleport(x, z, 'api', yaw) : false),
    clickAt: (x, y) => app.viewer?.clickAt?.(x, y),
    project: (x, y, z) => app.viewer?.project(x, y, z),
    objectCentre: (id) => app.viewer?.objectCentre(id)?.toArray(),
    unoccludedCentre: (id) => app.viewer?.unoccludedCentre(id) ?? null,
    sample: (x, y) => new Promise((resolve) => { window.__sample = { x, y, resolve }; }),
    disconnectRoom: () => app.rooms?.ws?.close(4001),
    get app() { return app; },
  };
  window.addEventListener('message', (ev) => {
    if (window.parent === window || ev.source !== window.parent) return;
    const m = ev.data;
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    if (m.type === 'vrculture:select' && (typeof m.object === 'string' || m.object === null)) app.select(m.object, 'api');
    else if (m.type === 'vrculture:startTour' && typeof m.tour === 'string') app.tours?.start(m.tour);
    else if (m.type === 'vrculture:setLanguage' && typeof m.lang === 'string') app.setLanguage(m.lang);
  });
}

const app = new App();
exposeApi(app);
app.boot().catch((err) => {
  reportError('start', err);
  showFatal(err.message || String(err));
  app.postToParent({ type: 'vrculture:error', message: err.message || String(err) });
});
