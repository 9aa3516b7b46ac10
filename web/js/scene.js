// @ts-check
// The three.js scene of an exhibition: architecture, placed objects and smart exhibits, lights.
import * as THREE from 'three';
import { RoomEnvironment } from 'three/addons/environments/RoomEnvironment.js';

/** @param {HTMLElement} canvasParent */
export function createRenderer(canvasParent) {
  const renderer = new THREE.WebGLRenderer({ antialias: true, powerPreference: 'high-performance' });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  renderer.setSize(canvasParent.clientWidth || window.innerWidth, canvasParent.clientHeight || window.innerHeight);
  renderer.outputColorSpace = THREE.SRGBColorSpace;
  // Khronos PBR Neutral: leaves base colours up to ~0.76 untouched (hue and saturation kept) and
  // only compresses highlights, so a glaze reads as its material rather than as a film look.
  renderer.toneMapping = THREE.NeutralToneMapping;
  renderer.toneMappingExposure = 1;
  // three's check reads each new program's and both its shaders' info logs on its first use:
  // three round trips to the GPU process in a frame (most of a program's first use, up to
  // 15 ms a program in a headset frame on SwiftShader); the level queue checks the link instead
  // (lod.js `checkLinked`), from what the first use already fetched
  renderer.debug.checkShaderErrors = false;
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

/**
 * Image-based lighting from a room made at run time (no HDR file to fetch): soft, even light from
 * every side with reflections a glaze can show, prefiltered once with PMREM; plus one weak key
 * light from above for modelling. No shadow maps: too dear per frame on a headset.
 * @param {THREE.WebGLRenderer} renderer
 */
export function createScene(renderer) {
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x20232a);
  const pmrem = new THREE.PMREMGenerator(renderer);
  const room = new RoomEnvironment();
  scene.environment = pmrem.fromScene(room, 0.04).texture;
  scene.environmentIntensity = 0.7;
  room.dispose();
  pmrem.dispose();
  const key = new THREE.DirectionalLight(0xfff6ea, 0.7);
  key.position.set(2, 8, 3);
  scene.add(key);
  return scene;
}

/** The architecture's material name for the vitrines' glass (vrculture/exhibition/architecture.py). */
export const GLASS_MATERIAL = 'vitrine_glass';

/**
 * Gives the vitrines' glass in the architecture a physically based glass: clear, smooth, with
 * the environment's reflections (no transmission pass: that would draw the scene twice), drawn
 * after the opaque objects without writing depth, so the object inside shows through. The glass
 * is left out of ray casts: a visitor picks the object through its case. All vitrines share one
 * mesh (one draw call). Returns how many glass meshes were found.
 * @param {THREE.Object3D} root
 */
export function dressVitrineGlass(root) {
  /** @type {THREE.MeshPhysicalMaterial | null} */
  let glass = null;
  let found = 0;
  root.traverse((o) => {
    if (!(o instanceof THREE.Mesh) || Array.isArray(o.material) || o.material.name !== GLASS_MATERIAL) return;
    const source = /** @type {THREE.MeshStandardMaterial} */ (o.material);
    glass = glass || new THREE.MeshPhysicalMaterial({
      name: GLASS_MATERIAL, color: source.color, metalness: 0, roughness: 0.05, ior: 1.5,
      specularIntensity: 1, clearcoat: 0, transparent: true, opacity: Math.min(source.opacity, 0.2),
      depthWrite: false,
    });
    o.material = glass;
    o.raycast = () => {};
    o.userData.glass = true;
    found++;
  });
  return found;
}

/**
 * Scales the image-based light on one object's materials by its presentation's `light` (1: as
 * the room; 0 to 2). Per material, so no extra light and no extra draw call: three otherwise
 * takes the intensity from the scene, so the environment is set on the material itself.
 * @param {THREE.Object3D} holder
 * @param {THREE.Scene} scene
 * @param {number} light
 */
export function applyObjectLight(holder, scene, light) {
  if (!(light >= 0) || light === 1) return;
  holder.traverse((o) => {
    if (!(o instanceof THREE.Mesh) || o.userData.annotation || o.name === 'contact-shadow') return;
    for (const m of Array.isArray(o.material) ? o.material : [o.material]) {
      if (!(m instanceof THREE.MeshStandardMaterial) || m.userData.lightApplied) continue;
      m.envMap = m.envMap || scene.environment;
      m.envMapIntensity = scene.environmentIntensity * light;
      m.userData.lightApplied = true;
      m.needsUpdate = true;
    }
  });
}

/** A soft radial shadow, shared by every contact shadow (one small texture, made once). */
let contactShadowTexture = /** @type {THREE.CanvasTexture | null} */ (null);

function shadowTexture() {
  if (contactShadowTexture) return contactShadowTexture;
  const size = 64;
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
  const g = ctx.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, size / 2);
  g.addColorStop(0, 'rgba(0,0,0,0.55)');
  g.addColorStop(0.55, 'rgba(0,0,0,0.3)');
  g.addColorStop(1, 'rgba(0,0,0,0)');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, size, size);
  contactShadowTexture = new THREE.CanvasTexture(c);
  return contactShadowTexture;
}

let shadowMaterial = /** @type {THREE.MeshBasicMaterial | null} */ (null);
let shadowPlane = /** @type {THREE.PlaneGeometry | null} */ (null);

/** The one material of every contact shadow (they are drawn together, instanced). */
export function contactShadowMaterial() {
  shadowMaterial = shadowMaterial || new THREE.MeshBasicMaterial({
    map: shadowTexture(), transparent: true, depthWrite: false, toneMapped: false,
    polygonOffset: true, polygonOffsetFactor: -2, polygonOffsetUnits: -2,
  });
  return shadowMaterial;
}

function shadowGeometry() {
  shadowPlane = shadowPlane || new THREE.PlaneGeometry(1, 1);
  return shadowPlane;
}

/**
 * A blurred contact shadow under an object standing on a floor or plinth: one transparent quad,
 * no shadow map, no extra light pass. Sized from the object's footprint (x, z extents, metres).
 * @param {number} width
 * @param {number} depth
 */
export function contactShadow(width, depth) {
  const m = new THREE.Mesh(shadowGeometry(), contactShadowMaterial());
  m.rotation.x = -Math.PI / 2;
  m.scale.set(width * 1.5, depth * 1.5, 1);
  m.position.y = 0.002;
  m.name = 'contact-shadow';
  m.raycast = () => {}; // never picked or counted as the object
  return m;
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
