// @ts-check
// The three.js scene of an exhibition: architecture, placed objects and smart exhibits, lights.
import * as THREE from 'three';

/** @param {HTMLElement} canvasParent */
export function createRenderer(canvasParent) {
  const renderer = new THREE.WebGLRenderer({ antialias: true, powerPreference: 'high-performance' });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(canvasParent.clientWidth || window.innerWidth, canvasParent.clientHeight || window.innerHeight);
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  renderer.xr.enabled = true;
  renderer.xr.setReferenceSpaceType('local-floor');
  renderer.domElement.setAttribute('role', 'img');
  canvasParent.appendChild(renderer.domElement);
  return renderer;
}

export function webglAvailable() {
  try {
    const c = document.createElement('canvas');
    return !!(window.WebGL2RenderingContext && c.getContext('webgl2'));
  } catch {
    return false;
  }
}

export function createScene() {
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x20232a);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x444450, 1.6));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(3, 8, 4);
  scene.add(sun);
  return scene;
}

/**
 * A group standing where the manifest places it: origin = centre of the object's base.
 * @param {import('./manifest.js').Placement | null | undefined} placement
 * @param {string} name
 */
export function placedGroup(placement, name) {
  const g = new THREE.Group();
  g.name = name;
  if (placement) {
    g.position.fromArray(placement.position || [0, 0, 0]);
    g.rotation.y = placement.yaw || 0;
  }
  g.updateMatrixWorld(true);
  return g;
}

/**
 * A floor (y=0) under the walkable rectangles, used when the bundle has no architecture GLB.
 * @param {import('./manifest.js').Manifest} manifest
 */
export function fallbackFloor(manifest) {
  const rects = manifest.walkable && manifest.walkable.length ? manifest.walkable
    : manifest.rooms.map((r) => r.bounds);
  const g = new THREE.Group();
  const mat = new THREE.MeshStandardMaterial({ color: 0x77736b, roughness: 1 });
  for (const [x0, z0, x1, z1] of rects) {
    const m = new THREE.Mesh(new THREE.PlaneGeometry(x1 - x0, z1 - z0), mat);
    m.rotation.x = -Math.PI / 2;
    m.position.set((x0 + x1) / 2, 0, (z0 + z1) / 2);
    g.add(m);
  }
  return g;
}

/**
 * Small markers for an object's annotations, selectable in VR and on screen.
 * @param {import('./manifest.js').ObjectRecord} record
 * @param {THREE.Object3D} holder
 */
export function annotationMarkers(record, holder) {
  /** @type {THREE.Mesh[]} */
  const list = [];
  const b = record.bounds;
  const extent = b ? Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]) / 2 : 0.5;
  // big enough to aim at from a couple of metres, small enough not to hide a small object
  const radius = THREE.MathUtils.clamp(extent * 0.05, 0.01, 0.03);
  for (const a of record.annotations || []) {
    const m = new THREE.Mesh(new THREE.SphereGeometry(radius, 12, 8),
      new THREE.MeshBasicMaterial({ color: 0xffd24a, depthTest: true }));
    m.position.fromArray(a.position);
    const n = new THREE.Vector3().fromArray(a.normal || [0, 1, 0]).normalize();
    m.position.addScaledVector(n, radius * 0.8);
    m.userData.selectId = record.id;
    m.userData.annotation = a.id;
    m.name = `annotation:${record.id}:${a.id}`;
    holder.add(m);
    list.push(m);
  }
  return list;
}

/**
 * @param {number[][]} rects [x0, z0, x1, z1] each
 * @param {number} x
 * @param {number} z
 */
export function insideRects(rects, x, z) {
  return rects.some(([x0, z0, x1, z1]) => x >= x0 && x <= x1 && z >= z0 && z <= z1);
}
