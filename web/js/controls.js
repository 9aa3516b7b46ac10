// @ts-check
// Desktop and phone: WASD/arrow keys to walk, drag (mouse or one finger) to look, click or tap to
// select an object or to go to a point on the floor. Inactive while presenting in XR.
import * as THREE from 'three';

const WALK_SPEED = 1.6; // m/s
const TURN_SPEED = 0.004; // rad per dragged pixel
const CLICK_SLOP = 6; // px a press may move and still count as a click

/**
 * @param {import('./viewer.js').Viewer} viewer
 * @returns {{clickAt: (x: number, y: number, via?: string) => void}} a click at a point of the view (0..1, top-left origin)
 */
export function installDesktopControls(viewer) {
  const canvas = viewer.renderer.domElement;
  /** @type {Set<string>} */
  const keys = new Set();
  const raycaster = new THREE.Raycaster();
  /** @type {{x: number, y: number, lastX: number, lastY: number, moved: number, type: string} | null} */
  let drag = null;

  canvas.tabIndex = 0;
  canvas.style.touchAction = 'none';

  /** @param {Element | null} el */
  const editing = (el) => el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  window.addEventListener('keydown', (e) => {
    if (editing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.toLowerCase();
    if (['w', 'a', 's', 'd', 'arrowup', 'arrowdown', 'arrowleft', 'arrowright'].includes(k)) {
      // arrows scroll focused lists; only steal them when the 3D view has focus
      if (k.startsWith('arrow') && document.activeElement !== canvas) return;
      keys.add(k);
      e.preventDefault();
    }
  });
  window.addEventListener('keyup', (e) => keys.delete(e.key.toLowerCase()));
  window.addEventListener('blur', () => keys.clear());

  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, lastX: e.clientX, lastY: e.clientY, moved: 0, type: e.pointerType };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag || viewer.renderer.xr.isPresenting) return;
    const dx = e.clientX - drag.lastX;
    const dy = e.clientY - drag.lastY;
    drag.lastX = e.clientX;
    drag.lastY = e.clientY;
    drag.moved += Math.abs(dx) + Math.abs(dy);
    viewer.rig.rotation.y -= dx * TURN_SPEED;
    viewer.camera.rotation.x = THREE.MathUtils.clamp(viewer.camera.rotation.x - dy * TURN_SPEED, -1.2, 1.2);
  });
  canvas.addEventListener('pointerup', (e) => {
    const d = drag;
    drag = null;
    if (!d || d.moved > CLICK_SLOP || viewer.renderer.xr.isPresenting) return;
    const rect = canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    clickAt(ndc, d.type === 'touch' ? 'touch' : 'mouse');
  });
  canvas.addEventListener('pointercancel', () => { drag = null; });

  /**
   * @param {THREE.Vector2} ndc
   * @param {string} via
   */
  function clickAt(ndc, via) {
    viewer.rig.updateMatrixWorld(true);
    raycaster.setFromCamera(ndc, viewer.camera);
    const hit = viewer.intersect(raycaster);
    if (hit) {
      viewer.select(hit.id, via, hit.annotation);
      return;
    }
    const p = viewer.floorPoint(raycaster);
    if (p) viewer.teleport(p.x, p.z, via);
  }
  const forward = new THREE.Vector3();
  const right = new THREE.Vector3();
  viewer.onFrame((dt) => {
    if (viewer.renderer.xr.isPresenting || keys.size === 0) return;
    const f = (keys.has('w') || keys.has('arrowup') ? 1 : 0) - (keys.has('s') || keys.has('arrowdown') ? 1 : 0);
    const s = (keys.has('d') ? 1 : 0) - (keys.has('a') ? 1 : 0);
    const turn = (keys.has('arrowleft') ? 1 : 0) - (keys.has('arrowright') ? 1 : 0);
    viewer.rig.rotation.y += turn * 1.5 * dt;
    const yaw = viewer.rig.rotation.y;
    forward.set(-Math.sin(yaw), 0, -Math.cos(yaw));
    right.set(Math.cos(yaw), 0, -Math.sin(yaw));
    const next = viewer.rig.position.clone().addScaledVector(forward, f * WALK_SPEED * dt).addScaledVector(right, s * WALK_SPEED * dt);
    // walls: stay on walkable floor; slide along an edge rather than stop dead
    if (viewer.canStandAt(next.x, next.z)) viewer.rig.position.copy(next);
    else if (viewer.canStandAt(next.x, viewer.rig.position.z)) viewer.rig.position.x = next.x;
    else if (viewer.canStandAt(viewer.rig.position.x, next.z)) viewer.rig.position.z = next.z;
  });
  return { clickAt: (x, y, via = 'mouse') => clickAt(new THREE.Vector2(x * 2 - 1, -(y * 2 - 1)), via) };
}
