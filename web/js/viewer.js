// The exhibition viewer: owns the renderer, the scene, the visitor's rig and the frame loop, and
// exposes the actions (select, teleport, language, tours) that the input modules and panels call.
import * as THREE from 'three';
import { createRenderer, createScene, placedGroup, fallbackFloor, annotationMarkers, insideRects } from './scene.js';
import { createGLTFLoader, loadGLB, countTriangles } from './loaders.js';
import { LevelManager, budgetFromPage } from './lod.js';
import { bundleUrl, selectableIndex } from './manifest.js';
import { pick } from './i18n.js';
import { viewerState, now, reportError, bytesFetchedBy } from './state.js';

const EYE_HEIGHT = 1.6;
const LOD_INTERVAL_MS = 200;

export class Viewer {
  constructor({ container, manifest, language, mode = 'exhibition' }) {
    this.container = container;
    this.manifest = manifest;
    this.id = manifest.id;
    this.language = language;
    this.mode = mode;
    this.index = selectableIndex(manifest);
    this.listeners = new Map();
    this.frameHooks = [];
    this.pickables = [];
    this.smartGroups = new Map();
    this.walkable = manifest.walkable && manifest.walkable.length ? manifest.walkable : manifest.rooms.map((r) => r.bounds);
    viewerState.exhibition = manifest.id;
    viewerState.mode = mode;
    viewerState.language = language;

    this.renderer = createRenderer(container);
    this.scene = createScene();
    this.rig = new THREE.Group();
    this.rig.name = 'visitor';
    this.camera = new THREE.PerspectiveCamera(70, this.aspect(), 0.05, 200);
    this.camera.position.set(0, EYE_HEIGHT, 0);
    this.rig.add(this.camera);
    this.scene.add(this.rig);
    this.loader = createGLTFLoader(this.renderer);
    this.levels = new LevelManager({
      loader: this.loader,
      urlFor: (u) => bundleUrl(this.id, u),
      budget: budgetFromPage(manifest),
      onLevel: (id, level) => this.emit('level', { id, level }),
    });
    this.lastFrameAt = null;
    this.lastLod = 0;
    this.levels.wake = () => { this.lastLod = 0; };
    window.addEventListener('resize', () => this.resize());
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
  }

  emit(name, payload) {
    for (const fn of this.listeners.get(name) || []) {
      try { fn(payload); } catch (err) { reportError(`on ${name}`, err); }
    }
  }

  aspect() {
    return (this.container.clientWidth || window.innerWidth) / (this.container.clientHeight || window.innerHeight);
  }

  resize() {
    if (this.renderer.xr.isPresenting) return;
    this.camera.aspect = this.aspect();
    this.camera.updateProjectionMatrix();
    this.renderer.setSize(this.container.clientWidth || window.innerWidth, this.container.clientHeight || window.innerHeight);
  }

  text(t) {
    return pick(t, this.language, this.manifest.default_language);
  }

  /** Builds the rooms and places everything at its lowest level; starts drawing immediately. */
  async start({ objectsOnly = null } = {}) {
    const entrance = this.manifest.entrance || { position: [0, 0, 0], yaw: 0 };
    this.setPose(entrance.position[0], entrance.position[2], entrance.yaw);
    this.renderer.setAnimationLoop((time, frame) => this.frame(time, frame));

    const fixed = [];
    if (!objectsOnly) fixed.push(this.loadArchitecture());
    const wanted = objectsOnly ? this.manifest.objects.filter((o) => objectsOnly.includes(o.id)) : this.manifest.objects;
    for (const record of wanted) {
      const holder = placedGroup(objectsOnly ? null : record.placement, `object:${record.id}`);
      holder.userData.selectId = record.id;
      this.scene.add(holder);
      holder.updateMatrixWorld(true);
      this.levels.add(record.id, record, holder);
      this.pickables.push(holder);
      annotationMarkers(record, holder);
    }
    if (!objectsOnly) for (const s of this.manifest.smart_exhibits) fixed.push(this.loadSmartExhibit(s));
    await Promise.all([...fixed, this.levels.loadLowest(this.eyePosition())]);
    this.lowestSettled = true;
    viewerState.budget.fixedTriangles = this.countFixedTriangles();
    viewerState.ready = true;
    this.emit('ready', {});
  }

  async loadArchitecture() {
    const arch = this.manifest.architecture;
    let root;
    if (arch && arch.url) {
      try {
        root = (await loadGLB(this.loader, bundleUrl(this.id, arch.url))).scene;
        viewerState.assetBytesTotal += arch.bytes || 0;
      } catch (err) {
        reportError('architecture', err);
      }
    }
    root = root || fallbackFloor(this.manifest);
    root.name = 'architecture';
    root.traverse((o) => { o.userData.architecture = true; });
    this.scene.add(root);
    this.architecture = root;
  }

  async loadSmartExhibit(s) {
    const holder = placedGroup(s.placement, `smart:${s.id}`);
    holder.userData.selectId = s.id;
    this.scene.add(holder);
    this.pickables.push(holder);
    this.smartGroups.set(s.id, holder);
    try {
      const { scene } = await loadGLB(this.loader, bundleUrl(this.id, s.model.url));
      viewerState.assetBytesTotal += s.model.bytes || 0;
      scene.traverse((o) => { o.userData.selectId = s.id; });
      holder.add(scene);
    } catch (err) {
      reportError(`smart exhibit ${s.id}`, err);
      const stand = new THREE.Mesh(new THREE.CylinderGeometry(0.2, 0.2, 1.2, 16),
        new THREE.MeshStandardMaterial({ color: 0x8a8f96 }));
      stand.position.y = 0.6;
      stand.userData.selectId = s.id;
      holder.add(stand);
    }
    this.emit('smart-loaded', { id: s.id, group: holder });
  }

  countFixedTriangles() {
    let n = 0;
    for (const child of this.scene.children) {
      if (child.name.startsWith('object:') || child === this.rig) continue;
      n += countTriangles(child);
    }
    // annotation markers live inside object holders but are not levels
    this.scene.traverse((o) => { if (o.name.startsWith('annotation:')) n += countTriangles(o); });
    return n;
  }

  eyePosition() {
    this.rig.updateMatrixWorld(true);
    return new THREE.Vector3().setFromMatrixPosition(this.camera.matrixWorld);
  }

  setPose(x, z, yaw) {
    this.rig.position.set(x, 0, z);
    if (yaw != null) this.rig.rotation.y = yaw;
    this.rig.updateMatrixWorld(true);
    this.publishPose();
  }

  publishPose() {
    const p = this.eyePosition();
    viewerState.viewerPos = { x: round(p.x), y: round(p.y), z: round(p.z), yaw: round(this.rig.rotation.y) };
  }

  canStandAt(x, z) {
    if (!insideRects(this.walkable, x, z)) return false;
    const inFootprint = [...this.manifest.objects, ...this.manifest.smart_exhibits]
      .some((o) => o.placement && o.placement.footprint && insideRects([o.placement.footprint], x, z));
    return !inFootprint;
  }

  /** Moves the visitor so that their head ends up above (x, z); returns false where not walkable. */
  teleport(x, z, via = 'api', yaw = null) {
    if (!this.canStandAt(x, z)) return false;
    if (yaw != null) this.rig.rotation.y = yaw;
    this.rig.updateMatrixWorld(true);
    // in XR the head is off the rig's origin: keep the head, not the rig origin, on the target
    const head = this.eyePosition().sub(this.rig.position);
    this.rig.position.set(x - head.x, 0, z - head.z);
    this.rig.updateMatrixWorld(true);
    viewerState.teleports.push({ x: round(x), z: round(z), via });
    this.publishPose();
    this.emit('teleport', { x, z, via });
    return true;
  }

  snapTurn(radians) {
    const head = this.eyePosition();
    this.rig.rotation.y += radians;
    this.rig.updateMatrixWorld(true);
    // turn about the head, not the rig origin
    const after = this.eyePosition();
    this.rig.position.x += head.x - after.x;
    this.rig.position.z += head.z - after.z;
    this.rig.updateMatrixWorld(true);
    this.publishPose();
  }

  select(id, via = 'api', annotation = null, extra = {}) {
    if (id != null && !this.index.has(id)) return false;
    viewerState.selected = id;
    if (id != null) viewerState.picks.push({ id, via, annotation, at: Math.round(now()) });
    this.emit('select', { ...extra, id, via, annotation, entry: id ? this.index.get(id) : null });
    return true;
  }

  setLanguage(lang) {
    if (!this.manifest.languages.includes(lang) && !['sv', 'en'].includes(lang)) return false;
    this.language = lang;
    viewerState.language = lang;
    this.emit('language', { lang });
    return true;
  }

  /** Objects and exhibits hit by a ray, nearest first: [{id, annotation, point}] */
  intersect(raycaster) {
    const hits = raycaster.intersectObjects(this.pickables, true);
    for (const h of hits) {
      let o = h.object;
      while (o && o.userData.selectId == null) o = o.parent;
      if (o) return { id: o.userData.selectId, annotation: h.object.userData.annotation || null, point: h.point, distance: h.distance };
    }
    return null;
  }

  /** Where a ray meets the floor (y=0), if a visitor may stand there. */
  floorPoint(raycaster) {
    const plane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
    const p = new THREE.Vector3();
    if (!raycaster.ray.intersectPlane(plane, p)) return null;
    if (raycaster.ray.origin.distanceTo(p) > 40) return null;
    return this.canStandAt(p.x, p.z) ? p : null;
  }

  onFrame(fn) {
    this.frameHooks.push(fn);
  }

  frame(time, xrFrame) {
    const t0 = now();
    const dt = this.lastFrameAt == null ? 0 : Math.min(0.1, (t0 - this.lastFrameAt) / 1000);
    this.lastFrameAt = t0;
    for (const fn of this.frameHooks) {
      try { fn(dt, xrFrame); } catch (err) { reportError('frame hook', err); }
    }
    const t = now();
    if (t - this.lastLod > LOD_INTERVAL_MS) {
      this.lastLod = t;
      // in XR the user camera holds the head pose and the eye's fov; 1800 px ~ a Quest eye's height
      const height = this.renderer.xr.isPresenting ? 1800 : this.renderer.domElement.height;
      this.levels.update(this.camera, height);
    }
    // Until every object has a level there is nothing worth drawing (the HTML progress shows
    // meanwhile); skipping those frames leaves the CPU to parsing and decoding, which on a
    // phone or a software renderer halves the time to the first real frame. XR needs a frame
    // for every XR callback, so it always draws.
    if (!this.lowestSettled && !xrFrame) return;
    this.renderer.render(this.scene, this.camera);
    const info = this.renderer.info.render;
    const r = viewerState.render;
    // main-thread time of a frame (hooks, level choice, draw submission): the part of the
    // ~11 ms budget at 90 Hz that the page itself spends; mean and worst of the last 60 frames
    // (a window, not a running average: the first frames compile shaders and would linger)
    const window60 = this.cpuWindow || (this.cpuWindow = []);
    window60.push(now() - t0);
    if (window60.length > 60) window60.shift();
    r.cpuMs = round(window60.reduce((a, b) => a + b, 0) / window60.length);
    r.cpuMsMax = round(Math.max(...window60));
    r.calls = info.calls;
    r.triangles = info.triangles;
    r.maxTriangles = Math.max(r.maxTriangles, info.triangles);
    r.maxCalls = Math.max(r.maxCalls, info.calls);
    viewerState.frames++;
    if (xrFrame) viewerState.xrFrames++;
    if (viewerState.firstPaintAt == null) viewerState.firstPaintAt = Math.round(t);
    if (viewerState.firstFrameAt == null && this.lowestSettled) {
      viewerState.firstFrameAt = Math.round(t);
      viewerState.bytesBeforeFirstFrame = bytesFetchedBy(t);
      viewerState.assetBytesBeforeFirstFrame = bytesFetchedBy(t, (u) => u.includes('/bundles/'));
      this.emit('first-frame', {});
    }
    if (window.__sample) this.sample();
    if (viewerState.frames % 10 === 0) this.publishPose();
  }

  /** Test hook: read pixels right after the render, in the same frame (no preserveDrawingBuffer). */
  sample() {
    const req = window.__sample;
    window.__sample = null;
    const gl = this.renderer.getContext();
    const out = new Uint8Array(4);
    const x = Math.round(req.x * gl.drawingBufferWidth);
    const y = Math.round((1 - req.y) * gl.drawingBufferHeight);
    gl.readPixels(x, y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, out);
    req.resolve([...out]);
  }

  /** Screen position (0..1, top-left origin) where a world point projects, for tests and overlays. */
  project(x, y, z) {
    const v = new THREE.Vector3(x, y, z).project(this.camera);
    return { x: (v.x + 1) / 2, y: (1 - v.y) / 2, visible: v.z < 1 && Math.abs(v.x) <= 1 && Math.abs(v.y) <= 1 };
  }

  /** Where an object's centre is on screen when nothing hides it from the camera, else null. */
  unoccludedCentre(id) {
    const c = this.objectCentre(id);
    if (!c) return null;
    const p = this.project(c.x, c.y, c.z);
    if (!p.visible) return null;
    const eye = this.eyePosition();
    const ray = new THREE.Raycaster(eye, c.clone().sub(eye).normalize(), 0.01, eye.distanceTo(c) + 2);
    const targets = this.scene.children.filter((o) => o !== this.rig && o.name !== 'vr-panel' && o.visible);
    const hit = ray.intersectObjects(targets, true).find((h) => h.object.visible && !h.object.isLine && !h.object.isSprite);
    let o = hit && hit.object;
    while (o && o.userData.selectId == null) o = o.parent;
    return o && o.userData.selectId === id ? p : null;
  }

  objectCentre(id) {
    const holder = this.pickables.find((g) => g.userData.selectId === id);
    if (!holder) return null;
    const box = new THREE.Box3().setFromObject(holder);
    return box.isEmpty() ? holder.position.clone() : box.getCenter(new THREE.Vector3());
  }
}

function round(v) {
  return Math.round(v * 1000) / 1000;
}
