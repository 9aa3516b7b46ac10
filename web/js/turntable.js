// @ts-check
// One object on a turntable (the /embed/{id}/{object} page): the camera frames the object, the
// object turns slowly, and dragging turns it by hand (the turning pauses while dragging).
import * as THREE from 'three';

const TURN_RAD_PER_S = 0.35;

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
  viewer.camera.position.set(0, centre.y, 0);
  viewer.camera.near = Math.max(0.005, distance / 100);
  viewer.camera.updateProjectionMatrix();
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
  viewer.onFrame((dt) => {
    if (!dragging) spin += TURN_RAD_PER_S * dt;
    const h = holder();
    if (h) h.rotation.y = spin;
  });
}
