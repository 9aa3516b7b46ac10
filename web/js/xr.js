// @ts-check
// WebXR immersive-vr: an "Enter VR" button only where a session is supported; controllers (or
// tracked hands) with a ray that picks objects, presses panel buttons and teleports on walkable
// floor; snap or smooth turn on the thumbstick (a vignette narrows the view while turning
// smoothly); seated mode; the B/Y button opens the comfort menu; a short fade to black around a
// jump to a view point.
import * as THREE from 'three';
import { XRHandModelFactory } from 'three/addons/webxr/XRHandModelFactory.js';
import { viewerState, reportError } from './state.js';
import { fire } from './events.js';
import { readComfort, writeComfort, COMFORT_CHOICES } from './storage.js';
import { t } from './i18n.js';

const DEG = Math.PI / 180;
const MENU_BUTTON = 5; // xr-standard: B on the right controller, Y on the left
const VIGNETTE_MAX = 0.92; // opacity at full turning speed; never quite black
const VIGNETTE_RATE = 6; // opacity a second it may change: eases in and out, no flicker
const STICK_ON = 0.7;
const STICK_OFF = 0.3;
const RAY_LENGTH = 8;
const FADE_S = 0.18; // each way: long enough that the jump is not a jolt, short enough not to wait

export async function xrSupported() {
  try {
    return !!(navigator.xr && await navigator.xr.isSessionSupported('immersive-vr'));
  } catch {
    return false;
  }
}

export class XRInput {
  /**
   * @param {import('./main.js').App} app
   * @param {import('./viewer.js').Viewer} viewer
   */
  constructor(app, viewer) {
    this.app = app;
    this.viewer = viewer;
    /** @type {XRSession | null} */
    this.session = null;
    this.raycaster = new THREE.Raycaster();
    /** @type {import('./storage.js').Comfort} */
    this.comfort = readComfort();
    applyTextScale(this.comfort.textScale);
    /** @type {HTMLSelectElement | null} */
    this.textSizeChoice = null;
    this.mountTextSizeChoice();
    /** radians a second the visitor turned smoothly in the last frame */
    this.turnSpeed = 0;
    /** the thumbstick turns the visitor (the turntable embed gives it to the object instead) */
    this.stickTurns = true;
    /** @type {{c: THREE.XRTargetRaySpace, ray: THREE.Line, armed: boolean, menuDown?: boolean}[]} */
    this.controllers = [];
    const renderer = this.viewer.renderer;
    const hands = new XRHandModelFactory();
    this.reticle = new THREE.Mesh(new THREE.RingGeometry(0.12, 0.16, 24).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: 0x7fd4ff }));
    this.reticle.visible = false;
    this.viewer.scene.add(this.reticle);
    for (let i = 0; i < 2; i++) {
      const c = renderer.xr.getController(i);
      c.userData.index = i;
      const ray = new THREE.Line(new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3(0, 0, -1)]),
        new THREE.LineBasicMaterial({ color: 0xffffff }));
      ray.name = 'ray';
      ray.scale.z = RAY_LENGTH;
      c.add(ray);
      c.addEventListener('connected', (e) => { c.userData.source = e.data; ray.visible = e.data.targetRayMode !== 'gaze'; });
      c.addEventListener('disconnected', () => { c.userData.source = null; });
      c.addEventListener('select', () => this.onSelect(c));
      this.viewer.rig.add(c);
      const grip = renderer.xr.getControllerGrip(i);
      const body = new THREE.Mesh(new THREE.BoxGeometry(0.04, 0.03, 0.12), new THREE.MeshStandardMaterial({ color: 0x333a44 }));
      grip.add(body);
      this.viewer.rig.add(grip);
      const hand = renderer.xr.getHand(i);
      hand.add(hands.createHandModel(hand, 'spheres'));
      this.viewer.rig.add(hand);
      this.controllers.push({ c, ray, armed: true });
    }
    this.viewer.onFrame((dt, frame) => { if (frame) this.update(dt); });
    this.vignette = makeVignette();
    this.viewer.camera.add(this.vignette);
    this.viewer.onFrame((dt) => this.stepVignette(dt));
    // a black shell around the head, drawn over everything while fading
    this.fade = new THREE.Mesh(new THREE.SphereGeometry(0.3, 16, 8), new THREE.MeshBasicMaterial({
      color: 0x000000, side: THREE.BackSide, transparent: true, opacity: 0, depthTest: false, depthWrite: false }));
    this.fade.name = 'fade';
    this.fade.renderOrder = 10000;
    this.fade.visible = false;
    this.viewer.camera.add(this.fade);
    /** @type {{t: number, move: (() => void) | null} | null} t: seconds since the fade began */
    this.fading = null;
    this.viewer.onFrame((dt) => this.stepFade(dt));
    renderer.xr.addEventListener('sessionstart', () => {
      viewerState.inXR = true;
      fire(app, 'xr', { presenting: true });
    });
    renderer.xr.addEventListener('sessionend', () => {
      viewerState.inXR = false;
      this.session = null;
      this.reticle.visible = false;
      this.fading?.move?.();
      this.fading = null;
      this.fade.visible = false;
      this.vignette.visible = false;
      this.viewer.rig.position.y = 0;
      this.viewer.camera.position.set(0, 1.6, 0);
      this.viewer.camera.rotation.set(0, 0, 0);
      fire(app, 'xr', { presenting: false });
    });
  }

  /**
   * Compiles and uploads the headset's own parts (controllers, rays, reticle, vignette, fade, the
   * VR panel) through the level queue ahead of the exhibition's parts: the page offers VR once
   * they are done, so a session entered at once does not compile them in its drawn frames.
   * Resolves when they are ready.
   */
  async prepare() {
    const parts = [this.viewer.rig, this.reticle, this.app.vrPanel?.mesh];
    await Promise.all(parts.map((part) => (part ? this.viewer.levels.prepareFirst(part) : null)));
  }

  async enter() {
    if (this.session) return true;
    try {
      if (!navigator.xr) throw new Error('this browser has no WebXR');
      // the rays' code runs here, before the headset's frames (see Viewer.warmRays)
      this.viewer.warmRays(this.raycaster);
      const session = await navigator.xr.requestSession('immersive-vr', {
        optionalFeatures: ['local-floor', 'bounded-floor', 'hand-tracking'],
      });
      this.session = session;
      session.addEventListener('end', () => { this.session = null; });
      await this.viewer.renderer.xr.setSession(session);
      return true;
    } catch (err) {
      reportError('enter VR', err);
      return false;
    }
  }

  async exit() {
    if (this.session) await this.session.end();
  }

  /** @param {THREE.XRTargetRaySpace} c */
  aim(c) {
    // three updates the controller's local matrix from the XR frame but not matrixWorld
    c.updateMatrixWorld(true);
    this.raycaster.setFromXRController(c);
    this.raycaster.far = 40;
  }

  /** @param {THREE.XRTargetRaySpace} c */
  onSelect(c) {
    this.aim(c);
    const panel = this.app.vrPanel;
    if (panel && panel.mesh.visible) {
      const hit = this.raycaster.intersectObject(panel.mesh, false)[0];
      if (hit && panel.handleHit(hit)) return;
    }
    const hit = this.viewer.intersect(this.raycaster);
    if (hit) {
      this.app.select(hit.id, 'controller', hit.annotation);
      return;
    }
    const p = this.viewer.floorPoint(this.raycaster);
    if (p) this.viewer.teleport(p.x, p.z, 'controller');
  }

  /**
   * Fades the view out, runs `move` (a teleport) while it is black, and fades back in.
   * @param {() => void} move
   */
  fadeMove(move) {
    if (this.fading?.move) this.fading.move(); // a jump still waiting happens now; this one follows
    this.fading = { t: 0, move };
    this.fade.visible = true;
    viewerState.xrFades++;
  }

  /** @param {number} dt seconds since the last frame */
  stepFade(dt) {
    const f = this.fading;
    if (!f) return;
    // a frame may come late (a level uploading): cap the step so the black is always seen
    f.t += Math.min(dt, FADE_S / 2);
    const material = /** @type {THREE.MeshBasicMaterial} */ (this.fade.material);
    if (f.move && f.t >= FADE_S) {
      // the jump happens on a fully black frame, however late that frame came
      f.t = FADE_S;
      material.opacity = 1;
      const move = f.move;
      f.move = null;
      move();
      return;
    }
    material.opacity = f.t < FADE_S ? f.t / FADE_S : Math.max(0, 2 - f.t / FADE_S);
    if (f.t >= 2 * FADE_S) {
      this.fading = null;
      this.fade.visible = false;
    }
  }

  /**
   * Changes one comfort setting and remembers it.
   * @template {keyof import('./storage.js').Comfort} K
   * @param {K} key
   * @param {import('./storage.js').Comfort[K]} value
   */
  setComfort(key, value) {
    this.comfort[key] = value;
    writeComfort(this.comfort);
    if (key === 'textScale') {
      applyTextScale(this.comfort.textScale);
      if (this.textSizeChoice) this.textSizeChoice.value = String(this.comfort.textScale);
    }
    this.app.vrPanel?.applyTextScale();
  }

  /**
   * The text size outside VR too: a choice in the top bar, beside the language.
   * @returns {HTMLSelectElement | null}
   */
  mountTextSizeChoice() {
    const bar = document.querySelector('.bar-controls');
    if (!bar) return null;
    const select = document.createElement('select');
    select.id = 'text-size';
    for (const v of COMFORT_CHOICES.textScale) {
      const option = document.createElement('option');
      option.value = String(v);
      option.textContent = `A ${Math.round(v * 100)} %`;
      select.append(option);
    }
    select.value = String(this.comfort.textScale);
    select.addEventListener('change', () => {
      const v = COMFORT_CHOICES.textScale.find((x) => String(x) === select.value);
      if (v != null) this.setComfort('textScale', v);
    });
    bar.insertBefore(select, document.querySelector('#enter-vr'));
    this.textSizeChoice = select;
    this.relabel();
    return select;
  }

  /** The desktop choice's label in the visitor's language (the panel refresh calls it). */
  relabel() {
    const select = this.textSizeChoice;
    if (!select) return;
    select.setAttribute('aria-label', t(this.app.language, 'textSize'));
    select.title = t(this.app.language, 'textSize');
  }

  /** @param {number} dt seconds since the last frame */
  update(dt = 0) {
    /** @type {THREE.Vector3 | null} */
    let reticle = null;
    // seated: the floor sinks by the height so a seated visitor's eyes are at standing height;
    // set every frame because a teleport puts the rig back on the floor
    this.viewer.rig.position.y = this.comfort.seated ? this.comfort.seatedHeight : 0;
    this.turnSpeed = 0;
    // the session's first frame starts the session (three's first XR render): the rays' first
    // casts (bounds, first runs of the ray code) wait for the next one
    if (this.viewer.sessionFrame === 0) return;
    for (const entry of this.controllers) {
      const { c, ray } = entry;
      const source = c.userData.source;
      if (!source) continue;
      this.aim(c);
      const hit = this.viewer.intersect(this.raycaster);
      const panelHit = this.app.vrPanel?.mesh.visible ? this.raycaster.intersectObject(this.app.vrPanel.mesh, false)[0] : null;
      const near = [hit && hit.distance, panelHit && panelHit.distance].filter((d) => d != null);
      ray.scale.z = near.length ? Math.min(...near) : RAY_LENGTH;
      const floor = near.length ? null : this.viewer.floorPoint(this.raycaster);
      if (floor && !reticle) reticle = floor;
      // what each ray points at, as a select would take it (the panel first, as in onSelect)
      viewerState.xrHover[source.handedness || 'none'] = panelHit ? 'panel' : hit ? hit.id : floor ? 'floor' : null;
      if (this.stickTurns) this.turn(entry, source, dt);
      this.menuButton(entry, source);
    }
    this.reticle.visible = !!reticle;
    if (reticle) this.reticle.position.set(reticle.x, 0.01, reticle.z);
  }

  /**
   * The thumbstick turns the visitor: a flick snaps by the set angle; held, it turns smoothly.
   * @param {{armed: boolean}} entry
   * @param {XRInputSource} source
   * @param {number} dt seconds since the last frame
   */
  turn(entry, source, dt) {
    const pad = source.gamepad;
    if (!pad || !pad.axes) return;
    // xr-standard mapping puts the thumbstick on axes 2/3; some devices use 0/1
    const x = pad.axes.length >= 4 ? pad.axes[2] : pad.axes[0] || 0;
    if (this.comfort.turn === 'smooth') {
      // a dead zone so a resting thumb does not drift the world
      if (Math.abs(x) < STICK_OFF || dt <= 0) return;
      const speed = -Math.sign(x) * this.comfort.turnSpeed * DEG * (Math.abs(x) - STICK_OFF) / (1 - STICK_OFF);
      this.viewer.snapTurn(speed * dt);
      this.turnSpeed = speed;
      return;
    }
    const step = (this.comfort.turn === 'snap45' ? 45 : 30) * DEG;
    if (entry.armed && Math.abs(x) > STICK_ON) {
      entry.armed = false;
      this.viewer.snapTurn(x > 0 ? -step : step);
      viewerState.snapTurns++;
    } else if (!entry.armed && Math.abs(x) < STICK_OFF) {
      entry.armed = true;
    }
  }

  /**
   * B or Y opens (or closes) the comfort menu.
   * @param {{menuDown?: boolean}} entry
   * @param {XRInputSource} source
   */
  menuButton(entry, source) {
    const pressed = !!source.gamepad?.buttons[MENU_BUTTON]?.pressed;
    if (pressed && !entry.menuDown) this.app.vrPanel?.toggleSettings();
    entry.menuDown = pressed;
  }

  /** @param {number} dt seconds since the last frame */
  stepVignette(dt) {
    const material = /** @type {THREE.MeshBasicMaterial} */ (this.vignette.material);
    const moving = this.comfort.vignette && viewerState.inXR ? Math.min(1, Math.abs(this.turnSpeed) / (60 * DEG)) : 0;
    const target = moving * VIGNETTE_MAX;
    const step = VIGNETTE_RATE * Math.min(dt, 0.1);
    material.opacity += Math.max(-step, Math.min(step, target - material.opacity));
    if (target === 0 && material.opacity < 0.01) material.opacity = 0;
    this.vignette.visible = material.opacity > 0;
  }
}

/**
 * A head-locked plane whose edges are black and centre clear: drawn over the scene while turning
 * smoothly, it hides the peripheral motion that makes a visitor sick. One quad, no post-process.
 */
function makeVignette() {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 256;
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const gradient = g.createRadialGradient(128, 128, 40, 128, 128, 128);
  gradient.addColorStop(0, 'rgba(0,0,0,0)');
  gradient.addColorStop(0.55, 'rgba(0,0,0,0.6)');
  gradient.addColorStop(1, 'rgba(0,0,0,1)');
  g.fillStyle = gradient;
  g.fillRect(0, 0, 256, 256);
  const mesh = new THREE.Mesh(new THREE.PlaneGeometry(0.7, 0.7), new THREE.MeshBasicMaterial({
    map: new THREE.CanvasTexture(canvas), transparent: true, opacity: 0, depthTest: false, depthWrite: false }));
  mesh.name = 'vignette';
  mesh.position.set(0, 0, -0.2); // 0.7 m at 0.2 m: wider than a Quest's field of view
  mesh.renderOrder = 9999;
  mesh.visible = false;
  return mesh;
}

/**
 * The desktop panels follow the text size too (CSS scales from this variable).
 * @param {number} scale
 */
export function applyTextScale(scale) {
  document.documentElement.style.setProperty('--text-scale', String(scale));
}
