// @ts-check
// One object on a turntable (the /embed/{id}/{object} page): the camera frames the object, the
// object turns slowly, and dragging turns it by hand (the turning pauses while dragging).
// In a headset the object stands before the visitor at a comfortable height and distance, on a
// floor disc (no floating in a void); a thumbstick turns it, and so does grabbing it (squeeze and
// move the hand around it); it turns by itself while nobody steers it.
import * as THREE from 'three';
import { viewerState } from './state.js';

const TURN_RAD_PER_S = 0.35;
const STICK_RAD_PER_S = 1.8; // thumbstick fully over
const STICK_DEAD_ZONE = 0.15;
const SQUEEZE = 1; // xr-standard: the grip button
// In VR: the object's centre at chest height (looked at slightly from above, like a vitrine) and
// at arm's length or, for larger objects, far enough to see it whole.
const VR_CENTRE_HEIGHT = 1.2;
const VR_NEAREST = 0.7;
const VR_FARTHEST = 4;

/**
 * Where the object and the visitor go in VR, in metres: the object is lifted by `lift` (never
 * into the floor) and the visitor stands `distance` away from its centre, facing it.
 * @param {{min: number[], max: number[]}} bounds
 */
export function vrPlacement(bounds) {
  const min = new THREE.Vector3().fromArray(bounds.min);
  const max = new THREE.Vector3().fromArray(bounds.max);
  const centre = min.clone().add(max).multiplyScalar(0.5);
  const radius = Math.max(0.05, max.clone().sub(min).length() / 2);
  const lift = Math.max(-min.y, VR_CENTRE_HEIGHT - centre.y);
  const distance = Math.min(VR_FARTHEST, Math.max(VR_NEAREST, radius * 2.5));
  return { lift, distance, centre, radius };
}

/**
 * The smallest signed difference between two angles, radians.
 * @param {number} a
 * @param {number} b
 */
function angleDelta(a, b) {
  let d = a - b;
  while (d > Math.PI) d -= 2 * Math.PI;
  while (d < -Math.PI) d += 2 * Math.PI;
  return d;
}

/**
 * @param {import('./viewer.js').Viewer} viewer
 * @param {string} objectId
 */
export function installTurntable(viewer, objectId) {
  const canvas = viewer.renderer.domElement;
  const record = viewer.manifest.objects.find((o) => o.id === objectId);
  const b = record?.bounds || { min: [-0.5, 0, -0.5], max: [0.5, 1, 0.5] };
  const min = new THREE.Vector3().fromArray(b.min);
  const max = new THREE.Vector3().fromArray(b.max);
  const centre = min.clone().add(max).multiplyScalar(0.5);
  const radius = Math.max(0.05, max.clone().sub(min).length() / 2);
  const distance = radius / Math.tan(THREE.MathUtils.degToRad(viewer.camera.fov / 2)) * 1.15;
  viewer.walkable = [[-1e4, -1e4, 1e4, 1e4]];
  viewer.manifest = { ...viewer.manifest, entrance: { position: [centre.x, 0, centre.z + distance], yaw: 0 } };
  const near = Math.max(0.005, distance / 100);
  const frameOnDesktop = () => {
    viewer.camera.position.set(0, centre.y, 0);
    viewer.camera.rotation.set(0, 0, 0);
    viewer.camera.near = near;
    viewer.camera.updateProjectionMatrix();
  };
  frameOnDesktop();
  viewer.scene.background = new THREE.Color(0x2a2d33);
  /** @type {{x: number, moved: number} | null} */
  let dragging = null;
  let spin = 0;
  const holder = () => viewer.pickables.find((g) => g.userData.selectId === objectId);
  canvas.style.touchAction = 'none';
  canvas.addEventListener('pointerdown', (e) => { dragging = { x: e.clientX, moved: 0 }; canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener('pointermove', (e) => {
    if (!dragging) return;
    const dx = e.clientX - dragging.x;
    dragging.x = e.clientX;
    dragging.moved += Math.abs(dx);
    spin += dx * 0.01;
  });
  canvas.addEventListener('pointerup', () => {
    if (dragging && dragging.moved < 6) viewer.select(objectId, 'mouse');
    dragging = null;
  });

  // ---- VR
  const vr = vrPlacement(b);
  const floor = new THREE.Mesh(new THREE.CircleGeometry(Math.max(1.5, vr.distance + 0.8), 48).rotateX(-Math.PI / 2),
    new THREE.MeshStandardMaterial({ color: 0x4a4e56, roughness: 0.95 }));
  floor.name = 'turntable-floor';
  floor.position.set(centre.x, 0, centre.z + vr.distance / 2);
  floor.visible = false;
  viewer.scene.add(floor);
  /** @type {(XRInputSource | null)[]} */
  const sources = [null, null];
  /** @type {(number | null)[]} the hand's angle about the object when its grab began (or last frame) */
  const grabAngle = [null, null];
  for (let i = 0; i < 2; i++) {
    const c = viewer.renderer.xr.getController(i);
    c.addEventListener('connected', (e) => { sources[i] = e.data; });
    c.addEventListener('disconnected', () => { sources[i] = null; grabAngle[i] = null; });
  }
  let presenting = false;
  const enterVR = () => {
    const h = holder();
    if (h) { h.position.y = vr.lift; h.updateMatrixWorld(true); }
    floor.visible = true;
    viewer.camera.near = 0.05;
    viewer.setPose(centre.x, centre.z + vr.distance, 0);
    viewerState.turntable = { vr: true, lift: vr.lift, distance: vr.distance, spin };
  };
  const leaveVR = () => {
    const h = holder();
    if (h) { h.position.y = 0; h.updateMatrixWorld(true); }
    floor.visible = false;
    viewer.setPose(centre.x, centre.z + distance, 0);
    frameOnDesktop();
    viewerState.turntable = { vr: false, lift: 0, distance, spin };
  };
  /**
   * Thumbsticks and grabs in this XR frame; true while someone steers.
   * @param {number} dt
   * @param {THREE.Object3D} h
   */
  const steer = (dt, h) => {
    let steering = false;
    const axis = new THREE.Vector3().setFromMatrixPosition(h.matrixWorld);
    for (let i = 0; i < 2; i++) {
      const pad = sources[i]?.gamepad;
      if (!pad) continue;
      const x = pad.axes.length >= 4 ? pad.axes[2] : pad.axes[0] || 0;
      if (Math.abs(x) > STICK_DEAD_ZONE) {
        spin += x * STICK_RAD_PER_S * dt;
        steering = true;
      }
      if (pad.buttons[SQUEEZE]?.pressed) {
        // grab: the object turns with the hand moving around it
        const grip = viewer.renderer.xr.getControllerGrip(i);
        grip.updateMatrixWorld(true);
        const p = new THREE.Vector3().setFromMatrixPosition(grip.matrixWorld);
        const angle = Math.atan2(p.x - axis.x, p.z - axis.z);
        const last = grabAngle[i];
        if (last != null) spin += angleDelta(angle, last);
        grabAngle[i] = angle;
        steering = true;
      } else {
        grabAngle[i] = null;
      }
    }
    return steering;
  };

  viewer.onFrame((dt, frame) => {
    const inXR = !!frame && viewer.renderer.xr.isPresenting;
    // on the first XR frame and the first frame after: the XR code resets the camera on a
    // session's end, so the desktop framing comes back after it, not in an event beside it
    if (inXR !== presenting) {
      presenting = inXR;
      if (inXR) enterVR(); else leaveVR();
    }
    const h = holder();
    const steering = !!dragging || (inXR && !!h && steer(dt, h));
    if (!steering) spin += TURN_RAD_PER_S * dt;
    if (h) h.rotation.y = spin;
    if (viewerState.turntable) viewerState.turntable.spin = spin;
  });
}
