// @ts-check
// The exhibition viewer: owns the renderer, the scene, the visitor's rig and the frame loop, and
// exposes the actions (select, teleport, language, tours) that the input modules and panels call.
// It is an EventTarget: select, teleport, language, level, reading, smart-loaded, ready, first-frame.
import * as THREE from 'three';
import { createRenderer, createScene, placedGroup, fallbackFloor, annotationMarkers, insideRects, contactShadow, contactShadowMaterial, dressVitrineGlass, applyObjectLight } from './scene.js';
import { InstancedProxy, SlottedProxy, mergeStatic } from './batching.js';
import { animatedNodeNames } from './smart.js';
import { createGLTFLoader, loadGLB, countTriangles } from './loaders.js';
import { LevelManager, budgetFromPage } from './lod.js';
import { bundleUrl, selectableIndex } from './manifest.js';
import { pick } from './i18n.js';
import { viewerState, now, record, reportError, bytesFetchedBy } from './state.js';
import { fire } from './events.js';
import { PROGRAMME_ID } from './programme.js';

const EYE_HEIGHT = 1.6;
const LOD_INTERVAL_MS = 200;
/** a painting's frame (vrculture/pipeline/readers/painting.py): the same wood on every painting */
const FRAME_MATERIAL = 'frame_wood';
/**
 * a session's first XR frames do no level-queue step: the first pays for the session's start
 * (three's first XR render), the second for the controllers' first rays (xr.js)
 */
const SESSION_START_FRAMES = 2;

/** @typedef {import('./manifest.js').Manifest} Manifest */
/** @typedef {(dt: number, frame: XRFrame | undefined) => void} FrameHook */
/** @typedef {[number, number, number, boolean, number, number, number, number, number, number, number, number]} FrameLogEntry */
/** @typedef {{id: string | null, via: string, annotation: string | null, entry: import('./manifest.js').Selectable | null, narration?: string | null}} SelectDetail */

export class Viewer extends EventTarget {
  /** @param {{container: HTMLElement, manifest: Manifest, language: string, mode?: string}} options */
  constructor({ container, manifest, language, mode = 'exhibition' }) {
    super();
    this.container = container;
    this.manifest = manifest;
    this.id = manifest.id;
    this.language = language;
    this.mode = mode;
    this.index = selectableIndex(manifest);
    /** @type {FrameHook[]} */
    this.frameHooks = [];
    /** @type {THREE.Object3D[]} */
    this.pickables = [];
    /** @type {import('./smart.js').SmartExhibits | null} */
    this.smart = null;
    /** @type {THREE.Object3D | null} */
    this.architecture = null;
    this.lowestSettled = false;
    /** @type {number[]} main-thread ms of the last 60 frames */
    this.cpuWindow = [];
    /** @type {InstancedProxy[]} contact shadows and annotation markers, drawn instanced */
    this.instanced = [];
    /** @type {SlottedProxy | null} the paintings' frames, whichever level is shown, one draw call */
    this.frames = null;
    /**
     * Per frame [frame number, levels swapped in, textures uploaded (or a strip of a canvas
     * texture read), drawn, programs compiled or linked before the draw, programs compiled by a
     * draw (the frame's or the level queue's one-pixel upload draw), geometries first drawn by
     * the frame's draw, meshes whose geometry the queue uploaded, canvas pixels the queue read,
     * the frame's number in its XR session (-1 outside one), rays cast (`intersect`) by its
     * hooks, canvas pixels the queue uploaded]: set to an array by the test hooks
     * only (main.js), bounded.
     * @type {FrameLogEntry[] | null}
     */
    this.frameLog = null;
    /** rays cast through `intersect` so far, and before the current XR session started */
    this.rayCasts = 0;
    this.raysBeforeSession = 0;
    /** XR frames since the session started (see SESSION_START_FRAMES) */
    this.sessionFrames = 0;
    /** the current frame's number in its XR session, -1 outside one */
    this.sessionFrame = -1;
    /** @type {{x: number, y: number, resolve: (rgba: number[]) => void} | null} */
    this.sampleRequest = null;
    this.smartGroups = new Map();
    this.walkable = manifest.walkable && manifest.walkable.length ? manifest.walkable : manifest.rooms.map((r) => r.bounds);
    viewerState.exhibition = manifest.id;
    viewerState.mode = mode;
    viewerState.language = language;

    this.renderer = createRenderer(container);
    this.scene = createScene(this.renderer);
    this.rig = new THREE.Group();
    this.rig.name = 'visitor';
    this.camera = new THREE.PerspectiveCamera(70, this.aspect(), 0.05, 200);
    this.camera.position.set(0, EYE_HEIGHT, 0);
    this.rig.add(this.camera);
    this.scene.add(this.rig);
    /** what a headset shows until the scene is compiled and uploaded: its background only */
    this.loadingScene = new THREE.Scene();
    this.loadingScene.background = this.scene.background;
    this.loader = createGLTFLoader(this.renderer);
    this.levels = new LevelManager({
      loader: this.loader,
      urlFor: (u) => bundleUrl(this.id, u),
      budget: budgetFromPage(manifest),
      onLevel: (id, level) => {
        this.lightObject(id);
        this.followFrame(id);
        fire(this, 'level', { id, level });
      },
    });
    /** @type {number | null} */
    this.lastFrameAt = null;
    this.lastLod = 0;
    this.levels.wake = () => { this.lastLod = 0; };
    this.levels.setView(this.camera, this.scene);
    this.renderer.xr.addEventListener('sessionstart', () => {
      this.sessionFrames = 0;
      this.raysBeforeSession = this.rayCasts;
    });
    window.addEventListener('resize', () => this.resize());
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

  /** @param {import('./i18n.js').Text} t */
  text(t) {
    return pick(t, this.language, this.manifest.default_language);
  }

  /**
   * Builds the rooms and places everything at its lowest level; starts drawing immediately.
   * @param {{objectsOnly?: string[] | null}} [options]
   */
  async start({ objectsOnly = null } = {}) {
    const entrance = this.manifest.entrance || { position: [0, 0, 0], yaw: 0 };
    this.setPose(entrance.position[0], entrance.position[2], entrance.yaw);
    this.renderer.setAnimationLoop((time, frame) => this.frame(time, frame));

    const fixed = [];
    if (!objectsOnly) fixed.push(this.loadArchitecture());
    const wanted = objectsOnly ? this.manifest.objects.filter((o) => objectsOnly.includes(o.id)) : this.manifest.objects;
    /** @type {THREE.Mesh[]} */
    const shadows = [];
    /** @type {THREE.Mesh[]} */
    const markers = [];
    for (const record of wanted) {
      const holder = placedGroup(objectsOnly ? null : record.placement, `object:${record.id}`);
      holder.userData.selectId = record.id;
      this.scene.add(holder);
      holder.updateMatrixWorld(true);
      this.levels.add(record.id, record, holder);
      this.pickables.push(holder);
      markers.push(...annotationMarkers(record, holder));
      // a standing object (not a painting on a wall) is grounded by a soft shadow where it stands
      const b = record.bounds;
      if (b && record.placement && record.placement.mount !== 'wall') {
        const shadow = contactShadow(b.max[0] - b.min[0], b.max[2] - b.min[2]);
        holder.add(shadow);
        shadows.push(shadow);
      }
    }
    this.drawInstanced(shadows, markers);
    if (!objectsOnly) for (const s of this.manifest.smart_exhibits) fixed.push(this.loadSmartExhibit(s));
    await Promise.all([...fixed, this.levels.loadLowest(this.eyePosition())]);
    if (!objectsOnly) await this.mergeStaticParts();
    else if (this.architecture) this.scene.add(this.architecture);
    viewerState.budget.fixedTriangles = this.countFixedTriangles();
    // whatever else the scene gained meanwhile (smart exhibits' screens): compiled and uploaded
    // over frames behind the loading screen, so that the first drawn frame only draws
    await this.levels.prepare(this.scene);
    this.lowestSettled = true;
    this.levels.refine();
    viewerState.ready = true;
    fire(this, 'ready', {});
  }

  /**
   * Contact shadows and annotation markers: many copies of one shape, one draw call each kind.
   * The source meshes stay where they are (rays still find the markers) but are not drawn.
   * @param {THREE.Mesh[]} shadows
   * @param {THREE.Mesh[]} markers
   */
  drawInstanced(shadows, markers) {
    if (shadows.length) {
      this.instanced.push(new InstancedProxy('contact-shadows', shadows[0].geometry, contactShadowMaterial(),
        shadows.map((object) => ({ object }))));
    }
    if (markers.length) {
      const material = /** @type {THREE.Material} */ (markers[0].material).clone();
      this.instanced.push(new InstancedProxy('annotation-markers', new THREE.SphereGeometry(1, 12, 8), material,
        markers.map((object) => {
          const r = /** @type {THREE.SphereGeometry} */ (object.geometry).parameters.radius;
          return { object, local: new THREE.Matrix4().makeScale(r, r, r) };
        })));
    }
    // in XR frames draw while loading: nothing joins the scene before it is compiled
    for (const p of this.instanced) this.levels.prepare(p.mesh).then(() => this.scene.add(p.mesh));
  }

  /**
   * The architecture and the smart exhibits' static parts, merged (a handful of draw calls for
   * the whole gallery); the parts that readings animate stay separate.
   */
  async mergeStaticParts() {
    const animated = new Set(this.manifest.smart_exhibits.flatMap((s) => [...animatedNodeNames(s)]));
    /** @param {THREE.Object3D} mesh */
    const keep = (mesh) => {
      for (let o = /** @type {THREE.Object3D | null} */ (mesh); o; o = o.parent) if (animated.has(o.name)) return true;
      return false;
    };
    const roots = [...(this.architecture ? [this.architecture] : []), ...this.smartGroups.values()];
    // merged before any of it is in the scene or compiled: the hidden sources' materials are
    // never compiled, the proxies are compiled and uploaded before they are drawn
    const { proxies, hideSources } = mergeStatic(roots, keep);
    hideSources();
    const parts = [...roots, ...proxies];
    // the paintings' frames (their lowest levels are shown by now; sharper ones follow, `followFrame`)
    const framed = this.pickables.filter((h) => h.name.startsWith('object:'))
      .map((key) => ({ key, meshes: frameMeshes(key) })).filter((f) => f.meshes.length);
    if (framed.length > 1) { // one frame alone gains nothing
      this.frames = new SlottedProxy('painting-frames', framed);
      parts.push(this.frames.mesh);
    }
    const group = new THREE.Group();
    group.add(...parts);
    await this.levels.prepare(group);
    for (const part of parts) this.scene.add(part);
  }

  async loadArchitecture() {
    const arch = this.manifest.architecture;
    /** @type {THREE.Object3D | undefined} */
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
    viewerState.vitrines = dressVitrineGlass(root);
    this.architecture = root; // joins the scene once merged and compiled (mergeStaticParts)
  }

  /**
   * The object's presentation light on the level just shown (each level brings its materials).
   * @param {string} id
   */
  lightObject(id) {
    const record = this.manifest.objects.find((o) => o.id === id);
    const light = record?.presentation?.light;
    const holder = this.pickables.find((g) => g.userData.selectId === id);
    if (light != null && holder) applyObjectLight(holder, this.scene, light);
  }

  /**
   * The frame of the level just shown is drawn by the frames' proxy from this frame on.
   * @param {string} id
   */
  followFrame(id) {
    const holder = this.pickables.find((g) => g.userData.selectId === id);
    if (this.frames && holder) this.frames.update(holder, frameMeshes(holder));
  }

  /** @param {import('./manifest.js').SmartRecord} s */
  async loadSmartExhibit(s) {
    const holder = placedGroup(s.placement, `smart:${s.id}`);
    holder.userData.selectId = s.id; // joins the scene once merged and compiled (mergeStaticParts)
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
    fire(this, 'smart-loaded', { id: s.id, group: holder });
  }

  countFixedTriangles() {
    let n = 0;
    for (const child of this.scene.children) {
      if (child.name.startsWith('object:') || child === this.rig || child.userData.renderProxy) continue;
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

  /**
   * @param {number} x
   * @param {number} z
   * @param {number | null} [yaw]
   */
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

  /**
   * @param {number} x
   * @param {number} z
   */
  canStandAt(x, z) {
    if (!insideRects(this.walkable, x, z)) return false;
    const inFootprint = [...this.manifest.objects, ...this.manifest.smart_exhibits]
      .some((o) => o.placement && o.placement.footprint && insideRects([o.placement.footprint], x, z));
    return !inFootprint;
  }

  /**
   * Moves the visitor so that their head ends up above (x, z); returns false where not walkable.
   * @param {number} x
   * @param {number} z
   * @param {string} [via]
   * @param {number | null} [yaw]
   */
  teleport(x, z, via = 'api', yaw = null) {
    if (!this.canStandAt(x, z)) return false;
    if (yaw != null) this.rig.rotation.y = yaw;
    this.rig.updateMatrixWorld(true);
    // in XR the head is off the rig's origin: keep the head, not the rig origin, on the target
    const head = this.eyePosition().sub(this.rig.position);
    this.rig.position.set(x - head.x, 0, z - head.z);
    this.rig.updateMatrixWorld(true);
    record('teleports', { x: round(x), z: round(z), via });
    this.publishPose();
    fire(this, 'teleport', { x, z, via });
    return true;
  }

  /** @param {number} radians */
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

  /**
   * @param {string | null} id
   * @param {string} [via]
   * @param {string | null} [annotation]
   * @param {{narration?: string | null}} [extra]
   */
  select(id, via = 'api', annotation = null, extra = {}) {
    if (id === PROGRAMME_ID) { // the programme wall: its chips filter, nothing is selected
      fire(this, 'programme', { annotation, via });
      return true;
    }
    if (id != null && !this.index.has(id)) return false;
    viewerState.selected = id;
    if (id != null) record('picks', { id, via, annotation, at: Math.round(now()) });
    /** @type {SelectDetail} */
    const detail = { ...extra, id, via, annotation, entry: id ? this.index.get(id) ?? null : null };
    fire(this, 'select', detail);
    return true;
  }

  /** @param {string} lang */
  setLanguage(lang) {
    if (!this.manifest.languages.includes(lang) && !['sv', 'en'].includes(lang)) return false;
    this.language = lang;
    viewerState.language = lang;
    fire(this, 'language', { lang });
    return true;
  }

  /**
   * The nearest object or exhibit a ray hits.
   * @param {THREE.Raycaster} raycaster
   * @returns {{id: string, annotation: string | null, point: THREE.Vector3, distance: number} | null}
   */
  intersect(raycaster) {
    this.rayCasts++;
    // nearest first: the objects whose bounds the ray enters, in the order it enters them; an
    // object's triangles are tested only while it may still hold the nearest hit (testing every
    // object's held a headset's first frame for 8-16 ms, its controllers' first rays)
    const ray = raycaster.ray;
    /** @type {{holder: THREE.Object3D, distance: number}[]} */
    const entered = [];
    for (const holder of this.pickables) {
      pickBox.setFromObject(holder);
      if (pickBox.isEmpty() || !ray.intersectBox(pickBox, pickPoint)) continue;
      entered.push({ holder, distance: ray.origin.distanceTo(pickPoint) });
    }
    entered.sort((a, b) => a.distance - b.distance);
    /** @type {{id: string, annotation: string | null, point: THREE.Vector3, distance: number} | null} */
    let nearest = null;
    for (const { holder, distance } of entered) {
      if (distance > raycaster.far || (nearest && nearest.distance <= distance)) break;
      for (const h of raycaster.intersectObject(holder, true)) {
        /** @type {THREE.Object3D | null} */
        let o = h.object;
        while (o && o.userData.selectId == null) o = o.parent;
        if (!o) continue;
        if (!nearest || h.distance < nearest.distance) {
          nearest = { id: o.userData.selectId, annotation: h.object.userData.annotation || null, point: h.point, distance: h.distance };
        }
        break;
      }
    }
    return nearest;
  }

  /**
   * Runs the controllers' ray path (`intersect`, `floorPoint`) from the eye toward each pickable
   * object, before a VR session starts: the session's first casts were otherwise the code's
   * first runs (not yet compiled by the JavaScript engine) and the first to compute some bounds,
   * 4-14 ms of a drawn headset frame; warmed, 0.2-5 ms (mostly under 1 ms).
   * @param {THREE.Raycaster} raycaster
   */
  warmRays(raycaster) {
    const eye = this.eyePosition();
    for (const holder of this.pickables) {
      pickBox.setFromObject(holder);
      if (pickBox.isEmpty()) continue;
      raycaster.set(eye, pickBox.getCenter(pickPoint).sub(eye).normalize());
      raycaster.far = 40;
      this.intersect(raycaster);
      this.floorPoint(raycaster);
    }
  }

  /**
   * Where a ray meets the floor (y=0), if a visitor may stand there.
   * @param {THREE.Raycaster} raycaster
   */
  floorPoint(raycaster) {
    const plane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
    const p = new THREE.Vector3();
    if (!raycaster.ray.intersectPlane(plane, p)) return null;
    if (raycaster.ray.origin.distanceTo(p) > 40) return null;
    return this.canStandAt(p.x, p.z) ? p : null;
  }

  /** @param {FrameHook} fn */
  onFrame(fn) {
    this.frameHooks.push(fn);
  }

  /**
   * @param {number} time
   * @param {XRFrame} [xrFrame]
   */
  frame(time, xrFrame) {
    const t0 = now();
    this.sessionFrame = xrFrame ? this.sessionFrames++ : -1;
    const rays = this.rayCasts;
    const dt = this.lastFrameAt == null ? 0 : Math.min(0.1, (t0 - this.lastFrameAt) / 1000);
    this.lastFrameAt = t0;
    for (const fn of this.frameHooks) {
      try { fn(dt, xrFrame); } catch (err) { reportError('frame hook', err); }
    }
    for (const p of this.instanced) p.sync();
    this.frames?.sync();
    const sessionFrame = this.sessionFrame;
    const casts = this.rayCasts - rays;
    if (sessionFrame < 0 || sessionFrame >= SESSION_START_FRAMES) this.levels.flush(this.renderer);
    else this.levels.skipFlush();
    /** @type {FrameLogEntry | null} */
    let logged = null;
    if (this.frameLog) {
      const f = this.levels.lastFlush;
      logged = [viewerState.frames, f.swaps, f.uploads, this.lowestSettled || !!xrFrame, f.compiles, f.drawCompiles, 0,
        f.geometries, f.canvasPixels, sessionFrame, casts, f.canvasUploaded];
      this.frameLog.push(logged);
      if (this.frameLog.length > 5000) this.frameLog.splice(0, 1000);
    }
    const t = now();
    if (t - this.lastLod > LOD_INTERVAL_MS) {
      this.lastLod = t;
      // in XR the user camera holds the head pose and the eye's fov; 1800 px ~ a Quest eye's height
      const xr = this.renderer.xr.isPresenting;
      this.levels.update(this.camera, xr ? 1800 : this.renderer.domElement.height, xr);
    }
    // Until every object has a level there is nothing worth drawing (the HTML progress shows
    // meanwhile); skipping those frames leaves the CPU to parsing and decoding, which on a
    // phone or a software renderer halves the time to the first real frame. XR needs a frame
    // for every XR callback: it draws the empty background meanwhile (what is in the scene is
    // compiled and uploaded over frames first, see `start`).
    if (!this.lowestSettled && !xrFrame) return;
    const programs = this.renderer.info.programs?.length ?? 0;
    const geometries = this.renderer.info.memory.geometries;
    this.renderer.render(this.lowestSettled ? this.scene : this.loadingScene, this.camera);
    if (logged) {
      logged[5] += (this.renderer.info.programs?.length ?? 0) - programs;
      logged[6] = this.renderer.info.memory.geometries - geometries;
    }
    const info = this.renderer.info.render;
    const r = viewerState.render;
    // main-thread time of a frame (hooks, level choice, draw submission): the part of the
    // ~11 ms budget at 90 Hz that the page itself spends; mean and worst of the last 60 frames
    // (a window, not a running average: the first frames compile shaders and would linger)
    const window60 = this.cpuWindow;
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
      fire(this, 'first-frame', {});
    }
    if (this.sampleRequest) this.readSample(this.sampleRequest);
    if (viewerState.frames % 10 === 0) this.publishPose();
  }

  /**
   * The RGBA of one pixel (0..1, top-left origin) of the next frame: for tests, which cannot read
   * the canvas later (no preserveDrawingBuffer).
   * @param {number} x
   * @param {number} y
   * @returns {Promise<number[]>}
   */
  sample(x, y) {
    return new Promise((resolve) => { this.sampleRequest = { x, y, resolve }; });
  }

  /**
   * Reads the requested pixel right after the render, in the same frame.
   * @param {{x: number, y: number, resolve: (rgba: number[]) => void}} req
   */
  readSample(req) {
    this.sampleRequest = null;
    const gl = this.renderer.getContext();
    const out = new Uint8Array(4);
    const x = Math.round(req.x * gl.drawingBufferWidth);
    const y = Math.round((1 - req.y) * gl.drawingBufferHeight);
    gl.readPixels(x, y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, out);
    req.resolve([...out]);
  }

  /**
   * Screen position (0..1, top-left origin) where a world point projects, for tests and overlays.
   * @param {number} x
   * @param {number} y
   * @param {number} z
   */
  project(x, y, z) {
    const v = new THREE.Vector3(x, y, z).project(this.camera);
    return { x: (v.x + 1) / 2, y: (1 - v.y) / 2, visible: v.z < 1 && Math.abs(v.x) <= 1 && Math.abs(v.y) <= 1 };
  }

  /**
   * Where an object is on screen when nothing hides it from the camera, else null: the point of
   * its surface nearest its centre that a ray from the eye reaches first. (Its bounding box's
   * centre alone is not enough: seen at a slant, an openwork relief such as livets-trad lets a
   * ray through that centre pass between its branches to the wall.)
   * @param {string} id
   */
  unoccludedCentre(id) {
    const holder = this.pickables.find((g) => g.userData.selectId === id);
    const c = this.objectCentre(id);
    if (!holder || !c) return null;
    const eye = this.eyePosition();
    const targets = this.scene.children.filter((o) => o !== this.rig && o.name !== 'vr-panel' && o.visible);
    const ray = new THREE.Raycaster();
    for (const point of [c, ...surfaceSamples(holder, c)]) {
      if (!this.project(point.x, point.y, point.z).visible) continue;
      ray.set(eye, point.clone().sub(eye).normalize());
      ray.near = 0.01;
      ray.far = eye.distanceTo(point) + 2;
      const hit = ray.intersectObjects(targets, true)
        .find((h) => h.object.visible && !(h.object instanceof THREE.Line) && !(h.object instanceof THREE.Sprite));
      /** @type {THREE.Object3D | null} */
      let o = hit ? hit.object : null;
      while (o && o.userData.selectId == null) o = o.parent;
      // a click there goes along this very ray, so it lands where this hit did
      if (hit && o && o.userData.selectId === id) return this.project(hit.point.x, hit.point.y, hit.point.z);
    }
    return null;
  }

  /** @param {string} id */
  objectCentre(id) {
    const holder = this.pickables.find((g) => g.userData.selectId === id);
    if (!holder) return null;
    const box = new THREE.Box3().setFromObject(holder);
    return box.isEmpty() ? holder.position.clone() : box.getCenter(new THREE.Vector3());
  }
}

/**
 * Up to 64 points of the drawn surface under `root` (vertices, evenly spread), nearest `centre` first.
 * @param {THREE.Object3D} root
 * @param {THREE.Vector3} centre
 */
function surfaceSamples(root, centre) {
  /** @type {THREE.Vector3[]} */
  const points = [];
  root.updateWorldMatrix(true, true);
  root.traverseVisible((o) => {
    if (!(o instanceof THREE.Mesh) || o.userData.renderProxy) return;
    const materials = Array.isArray(o.material) ? o.material : [o.material];
    if (!materials.some((m) => m.visible)) return;
    const pos = o.geometry.attributes.position;
    const step = Math.max(1, Math.floor(pos.count / 64));
    for (let i = 0; i < pos.count; i += step) points.push(new THREE.Vector3().fromBufferAttribute(pos, i).applyMatrix4(o.matrixWorld));
  });
  points.sort((a, b) => a.distanceToSquared(centre) - b.distanceToSquared(centre));
  return points.slice(0, 64);
}

/**
 * The meshes of a painting's frame in the level shown under `holder`.
 * @param {THREE.Object3D} holder
 */
function frameMeshes(holder) {
  /** @type {THREE.Mesh[]} */
  const found = [];
  holder.traverse((o) => {
    if (o instanceof THREE.Mesh && !Array.isArray(o.material) && o.material.name === FRAME_MATERIAL) found.push(o);
  });
  return found;
}

const pickBox = new THREE.Box3();
const pickPoint = new THREE.Vector3();

/** @param {number} v */
function round(v) {
  return Math.round(v * 1000) / 1000;
}
