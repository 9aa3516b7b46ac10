// @ts-check
// Fewer draw calls without changing what is picked: the scene graph keeps every mesh (names,
// userData.selectId, bounds and ray casts stay as they were), but the static ones stop drawing
// themselves (a hidden copy of their material) and are drawn by a proxy instead:
// - `mergeStatic`: the architecture and the static parts of smart exhibits become one merged
//   mesh. Untextured opaque standard materials share one material: the base colour goes into
//   vertex colours, roughness, metalness and emission into a tiny lookup texture (one texel per
//   source material), so the light and colours are what the separate materials gave.
// - `InstancedProxy`: many copies of one small shape (contact shadows, annotation markers) as
//   one InstancedMesh that follows its sources' world matrices.
// - `SlottedProxy`: small meshes of parts that come and go (each painting's frame, in whichever
//   of its levels is shown) merged into one mesh with a fixed range per part, rewritten in place
//   when the part's meshes are swapped or moved (no new geometry to upload in a drawn frame).
// Proxies are never hit by rays (their sources are).
import * as THREE from 'three';

const hiddenCopies = new WeakMap();
/** hidden copy -> the material it hides (what the mesh looks like when drawn by a proxy) */
const originals = new WeakMap();

/**
 * The material a source mesh keeps: the same, but not drawn (three skips invisible materials;
 * ray casts ignore material visibility). A copy, so a material shared with a drawn mesh stays.
 * @param {THREE.Material} material
 */
function hidden(material) {
  if (originals.has(material)) return material; // hidden already
  let copy = hiddenCopies.get(material);
  if (!copy) {
    copy = material.clone();
    copy.visible = false;
    hiddenCopies.set(material, copy);
    originals.set(copy, material);
  }
  return copy;
}

/** @param {THREE.Material} m */
function hasTexture(m) {
  return Object.values(m).some((v) => v instanceof THREE.Texture);
}

/**
 * @param {THREE.Object3D} o
 * @returns {o is THREE.Mesh}
 */
function isPlainMesh(o) {
  if (!(o instanceof THREE.Mesh) || o instanceof THREE.InstancedMesh || o instanceof THREE.SkinnedMesh) return false;
  const g = o.geometry;
  return !Array.isArray(o.material) && o.material.visible && !!g.attributes.position && !!g.attributes.normal
    && !g.attributes.tangent && !g.morphAttributes.position && g.groups.length <= 1
    && g.drawRange.start === 0 && g.drawRange.count === Infinity;
}

/**
 * Untextured, opaque standard materials: these can share one material through the lookup texture.
 * @param {THREE.Material} m
 * @returns {m is THREE.MeshStandardMaterial}
 */
function sharable(m) {
  return m.type === 'MeshStandardMaterial' && !m.transparent && m.opacity === 1 && m.alphaTest === 0
    && m.depthTest && m.depthWrite && !m.polygonOffset && !hasTexture(m)
    && !(/** @type {THREE.MeshStandardMaterial} */ (m).wireframe);
}

/** @param {THREE.MeshStandardMaterial} m */
function sharedKey(m) {
  return ['std', m.side, m.flatShading, m.envMapIntensity, m.toneMapped, m.fog].join('|');
}

/**
 * The meshes, in world space, as one geometry: float positions, normals and colours (rgb),
 * uv if every source has one; optional per-mesh colour factor and uv override.
 * @param {THREE.Mesh[]} meshes
 * @param {{colour?: (m: THREE.Mesh) => THREE.Color | null, uv?: (m: THREE.Mesh) => [number, number] | null}} [options]
 */
function mergeWorld(meshes, options = {}) {
  let vertices = 0;
  let indices = 0;
  for (const m of meshes) {
    vertices += m.geometry.attributes.position.count;
    indices += m.geometry.index ? m.geometry.index.count : m.geometry.attributes.position.count;
  }
  const withColour = options.colour != null || meshes.some((m) => m.geometry.attributes.color);
  const withUv = options.uv != null || meshes.every((m) => m.geometry.attributes.uv);
  const position = new Float32Array(vertices * 3);
  const normal = new Float32Array(vertices * 3);
  const colour = withColour ? new Float32Array(vertices * 3) : null;
  const uv = withUv ? new Float32Array(vertices * 2) : null;
  const index = new Uint32Array(indices);
  const v = new THREE.Vector3();
  const normalMatrix = new THREE.Matrix3();
  let base = 0;
  let at = 0;
  for (const m of meshes) {
    m.updateWorldMatrix(true, false);
    normalMatrix.getNormalMatrix(m.matrixWorld);
    const g = m.geometry;
    const { position: p, normal: n, color: c, uv: t } = g.attributes;
    const factor = options.colour ? options.colour(m) : null;
    const fixedUv = options.uv ? options.uv(m) : null;
    for (let i = 0; i < p.count; i++) {
      v.fromBufferAttribute(p, i).applyMatrix4(m.matrixWorld).toArray(position, (base + i) * 3);
      v.fromBufferAttribute(n, i).applyMatrix3(normalMatrix).normalize().toArray(normal, (base + i) * 3);
      if (colour) {
        const r = c ? c.getX(i) : 1;
        const gg = c ? c.getY(i) : 1;
        const b = c ? c.getZ(i) : 1;
        colour[(base + i) * 3] = r * (factor ? factor.r : 1);
        colour[(base + i) * 3 + 1] = gg * (factor ? factor.g : 1);
        colour[(base + i) * 3 + 2] = b * (factor ? factor.b : 1);
      }
      if (uv) {
        uv[(base + i) * 2] = fixedUv ? fixedUv[0] : t.getX(i);
        uv[(base + i) * 2 + 1] = fixedUv ? fixedUv[1] : t.getY(i);
      }
    }
    // a mirroring transform turns the winding over: turn it back so front faces stay front
    const flip = m.matrixWorld.determinant() < 0;
    const count = g.index ? g.index.count : p.count;
    for (let i = 0; i < count; i += 3) {
      const a = g.index ? g.index.getX(i) : i;
      const b = g.index ? g.index.getX(i + 1) : i + 1;
      const d = g.index ? g.index.getX(i + 2) : i + 2;
      index[at++] = base + a;
      index[at++] = base + (flip ? d : b);
      index[at++] = base + (flip ? b : d);
    }
    base += p.count;
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(position, 3));
  geometry.setAttribute('normal', new THREE.BufferAttribute(normal, 3));
  if (colour) geometry.setAttribute('color', new THREE.BufferAttribute(colour, 3));
  if (uv) geometry.setAttribute('uv', new THREE.BufferAttribute(uv, 2));
  geometry.setIndex(new THREE.BufferAttribute(index, 1));
  geometry.computeBoundingBox();
  geometry.computeBoundingSphere();
  return geometry;
}

/**
 * One standard material for many: base colour from vertex colours; roughness (g), metalness (b)
 * and emission (rgb, scaled by the largest intensity) looked up per source material.
 * @param {THREE.MeshStandardMaterial[]} materials
 */
function sharedMaterial(materials) {
  const n = materials.length;
  const orm = new Float32Array(n * 4);
  const glow = new Float32Array(n * 4);
  const strongest = Math.max(1e-6, ...materials.map((m) => m.emissiveIntensity * Math.max(m.emissive.r, m.emissive.g, m.emissive.b)));
  materials.forEach((m, i) => {
    orm.set([1, m.roughness, m.metalness, 1], i * 4);
    glow.set([m.emissive.r * m.emissiveIntensity / strongest, m.emissive.g * m.emissiveIntensity / strongest,
      m.emissive.b * m.emissiveIntensity / strongest, 1], i * 4);
  });
  /** @param {Float32Array} data */
  const lookup = (data) => {
    const t = new THREE.DataTexture(data, n, 1, THREE.RGBAFormat, THREE.FloatType);
    t.magFilter = THREE.NearestFilter;
    t.minFilter = THREE.NearestFilter;
    t.generateMipmaps = false;
    t.needsUpdate = true;
    return t;
  };
  const first = materials[0];
  const ormMap = lookup(orm);
  const glowing = materials.some((m) => m.emissiveIntensity > 0 && (m.emissive.r || m.emissive.g || m.emissive.b));
  return new THREE.MeshStandardMaterial({
    name: 'merged-static', vertexColors: true, roughness: 1, metalness: 1, roughnessMap: ormMap, metalnessMap: ormMap,
    emissive: glowing ? 0xffffff : 0x000000, emissiveMap: glowing ? lookup(glow) : null, emissiveIntensity: glowing ? strongest : 1,
    side: first.side, flatShading: first.flatShading, envMapIntensity: first.envMapIntensity, toneMapped: first.toneMapped, fog: first.fog,
  });
}

/**
 * @template {THREE.Mesh} T
 * @param {T} mesh
 * @returns {T}
 */
function asProxy(mesh) {
  mesh.userData.renderProxy = true;
  mesh.raycast = () => {};
  mesh.matrixAutoUpdate = false;
  mesh.updateMatrixWorld(true);
  return mesh;
}

/**
 * Merges the static meshes under `roots` into as few meshes as their materials allow.
 * `keep(mesh)` names meshes that change at run time (drawn as before). The caller adds the
 * proxies to the scene and, in the same frame, calls `hideSources` (so that the proxies can be
 * compiled and uploaded before they replace their sources).
 * @param {THREE.Object3D[]} roots
 * @param {(mesh: THREE.Mesh) => boolean} keep
 * @returns {{proxies: THREE.Mesh[], hideSources: () => void}}
 */
export function mergeStatic(roots, keep) {
  /** @type {Map<string, THREE.Mesh[]>} */
  const groups = new Map();
  /** @type {Map<THREE.Material, string>} */
  const ownKey = new Map();
  for (const root of roots) {
    root.updateWorldMatrix(true, true);
    root.traverseVisible((o) => {
      if (!isPlainMesh(o) || keep(o)) return;
      const m = /** @type {THREE.Material} */ (o.material);
      let key = sharable(m) ? sharedKey(m) : ownKey.get(m);
      if (key == null) { key = `own:${ownKey.size}`; ownKey.set(m, key); }
      const list = groups.get(key) || [];
      list.push(o);
      groups.set(key, list);
    });
  }
  /** @type {THREE.Mesh[]} */
  const proxies = [];
  /** @type {THREE.Mesh[]} */
  const sources = [];
  for (const [key, meshes] of groups) {
    if (meshes.length < 2) continue; // nothing to gain
    let mesh;
    if (key.startsWith('std|')) {
      const materials = [...new Set(meshes.map((m) => /** @type {THREE.MeshStandardMaterial} */ (m.material)))];
      const slot = new Map(materials.map((m, i) => [m, i]));
      const geometry = mergeWorld(meshes, {
        colour: (m) => /** @type {THREE.MeshStandardMaterial} */ (m.material).color,
        uv: (m) => [((slot.get(/** @type {THREE.MeshStandardMaterial} */ (m.material)) ?? 0) + 0.5) / materials.length, 0.5],
      });
      mesh = new THREE.Mesh(geometry, sharedMaterial(materials));
    } else {
      const material = /** @type {THREE.Material} */ (meshes[0].material);
      const geometry = mergeWorld(meshes);
      const m = material.clone();
      if ('vertexColors' in m) m.vertexColors = !!geometry.attributes.color;
      mesh = new THREE.Mesh(geometry, m);
    }
    mesh.name = 'merged-static';
    mesh.renderOrder = meshes[0].renderOrder;
    proxies.push(asProxy(mesh));
    sources.push(...meshes);
  }
  const hideSources = () => {
    for (const m of sources) m.material = hidden(/** @type {THREE.Material} */ (m.material));
  };
  return { proxies, hideSources };
}

/** Copies of one shape drawn as one InstancedMesh, each following a source object. */
export class InstancedProxy {
  /**
   * @param {string} name
   * @param {THREE.BufferGeometry} geometry
   * @param {THREE.Material} material
   * @param {{object: THREE.Object3D, local?: THREE.Matrix4}[]} sources
   */
  constructor(name, geometry, material, sources) {
    this.sources = sources.map((s) => ({ object: s.object, local: s.local || new THREE.Matrix4() }));
    this.mesh = asProxy(new THREE.InstancedMesh(geometry, material, Math.max(1, this.sources.length)));
    this.mesh.name = name;
    this.mesh.count = this.sources.length;
    this.matrix = new THREE.Matrix4();
    this.zero = new THREE.Matrix4().makeScale(0, 0, 0);
    for (const { object } of this.sources) {
      if (object instanceof THREE.Mesh && !Array.isArray(object.material)) object.material = hidden(object.material);
    }
    this.sync();
  }

  /** Follows the sources (a turntable spins its object); uploads only what changed. */
  sync() {
    const array = this.mesh.instanceMatrix.array;
    let changed = false;
    for (let i = 0; i < this.sources.length; i++) {
      const { object, local } = this.sources[i];
      object.updateWorldMatrix(true, false);
      const m = shownInScene(object) ? this.matrix.multiplyMatrices(object.matrixWorld, local) : this.zero;
      const e = m.elements;
      let differs = false;
      for (let k = 0; k < 16 && !differs; k++) differs = array[i * 16 + k] !== e[k];
      if (differs) { m.toArray(array, i * 16); changed = true; }
    }
    if (changed) {
      this.mesh.instanceMatrix.needsUpdate = true;
      this.mesh.computeBoundingSphere();
    }
  }
}

/** @param {THREE.Object3D} object */
function shownInScene(object) {
  /** @type {THREE.Object3D | null} */
  let o = object;
  while (o) {
    if (!o.visible) return false;
    o = o.parent;
  }
  return true;
}

/**
 * What a mesh's material draws like: the material itself, or the one its hidden copy stands for.
 * @param {THREE.Material} material
 * @returns {THREE.Material}
 */
function drawnLook(material) {
  return originals.get(material) || material;
}

/**
 * Whether two untextured standard materials shade alike (one drawn for the other changes no pixel).
 * @param {THREE.MeshStandardMaterial} a
 * @param {THREE.MeshStandardMaterial} b
 */
function shadesAlike(a, b) {
  return sharedKey(a) === sharedKey(b) && a.color.equals(b.color) && a.emissive.equals(b.emissive)
    && a.roughness === b.roughness && a.metalness === b.metalness && a.emissiveIntensity === b.emissiveIntensity
    && a.envMap === b.envMap && a.vertexColors === b.vertexColors && a.dithering === b.dithering
    && a.colorWrite === b.colorWrite && a.blending === b.blending;
}

/**
 * @typedef {{key: THREE.Object3D, meshes: THREE.Mesh[], vertexStart: number, vertices: number,
 *   indexStart: number, indices: number, matrices: Float32Array, drawn: boolean, written: number,
 *   box: THREE.Box3, sphere: THREE.Sphere}} Slot
 */

/**
 * Small meshes of parts whose meshes can be replaced (a painting's frame in each of its levels),
 * drawn as one mesh of one material. Each part (`key`, e.g. the painting's holder) owns a fixed
 * range of the merged geometry, sized for the meshes it had at the start; `update` swaps in the
 * part's current meshes and `sync` follows their world matrices, both by rewriting that range in
 * place (a partial buffer update, never a new geometry). A mesh that does not shade like the
 * proxy's material, or a part whose new meshes do not fit its range, keeps drawing itself.
 * The sources keep their place in the scene graph (picking, names, bounds), with a hidden copy of
 * their material.
 */
export class SlottedProxy {
  /**
   * @param {string} name
   * @param {{key: THREE.Object3D, meshes: THREE.Mesh[]}[]} parts
   */
  constructor(name, parts) {
    /** @type {THREE.MeshStandardMaterial | null} */
    this.look = null;
    /** @type {Slot[]} */
    this.slots = [];
    /** @type {Map<THREE.Object3D, Slot>} */
    this.byKey = new Map();
    let vertices = 0;
    let indices = 0;
    for (const { key, meshes } of parts) {
      const taken = meshes.filter((m) => this.accepts(m));
      if (!taken.length) continue;
      const size = sizeOf(taken);
      /** @type {Slot} */
      const slot = { key, meshes: [], vertexStart: vertices, vertices: size.vertices, indexStart: indices,
        indices: size.indices, matrices: new Float32Array(0), drawn: false, written: 0, box: new THREE.Box3(), sphere: new THREE.Sphere() };
      vertices += size.vertices;
      indices += size.indices;
      this.slots.push(slot);
      this.byKey.set(key, slot);
    }
    const geometry = new THREE.BufferGeometry();
    for (const [attribute, width] of /** @type {const} */ ([['position', 3], ['normal', 3]])) {
      geometry.setAttribute(attribute, new THREE.BufferAttribute(new Float32Array(Math.max(1, vertices) * width), width)
        .setUsage(THREE.DynamicDrawUsage));
    }
    geometry.setIndex(new THREE.BufferAttribute(new Uint32Array(Math.max(3, indices)), 1).setUsage(THREE.DynamicDrawUsage));
    const material = /** @type {THREE.MeshStandardMaterial} */ ((this.look || new THREE.MeshStandardMaterial()).clone());
    material.visible = true;
    this.mesh = asProxy(new THREE.Mesh(geometry, material));
    this.mesh.name = name;
    // culled part by part, as the sources were (one bound around frames on facing walls would
    // be in view where none of them is)
    this.mesh.intersectsFrustum = (frustum) => this.slots.some((s) => s.drawn && frustum.intersectsSphere(s.sphere));
    for (const { key, meshes } of parts) {
      const slot = this.byKey.get(key);
      if (slot) this.take(slot, meshes);
    }
    this.finishWrites();
  }

  /**
   * A plain mesh of an untextured opaque standard material that shades like the first one taken.
   * @param {THREE.Mesh} mesh
   */
  accepts(mesh) {
    if (Array.isArray(mesh.material)) return false;
    const look = drawnLook(mesh.material);
    if (!(look instanceof THREE.MeshStandardMaterial) || look.type !== 'MeshStandardMaterial' || !sharable(look)) return false;
    const g = mesh.geometry;
    if (!(mesh instanceof THREE.Mesh) || mesh instanceof THREE.InstancedMesh || mesh instanceof THREE.SkinnedMesh
      || !g.attributes.position || !g.attributes.normal || g.attributes.color || g.attributes.tangent
      || g.morphAttributes.position || g.groups.length > 1 || g.drawRange.start !== 0 || g.drawRange.count !== Infinity) return false;
    if (!this.look) this.look = look;
    return shadesAlike(look, this.look);
  }

  /**
   * The part's meshes now (a level swapped in): drawn by the proxy from this frame on, if they
   * shade alike and fit the part's range; else they draw themselves and the range stays empty.
   * @param {THREE.Object3D} key
   * @param {THREE.Mesh[]} meshes
   */
  update(key, meshes) {
    const slot = this.byKey.get(key);
    if (!slot) return;
    this.take(slot, meshes);
    this.finishWrites();
  }

  /**
   * @param {Slot} slot
   * @param {THREE.Mesh[]} meshes
   */
  take(slot, meshes) {
    const taken = meshes.filter((m) => this.accepts(m));
    const size = sizeOf(taken);
    const fits = taken.length === meshes.length && size.vertices <= slot.vertices && size.indices <= slot.indices;
    slot.meshes = fits ? taken : [];
    for (const m of slot.meshes) {
      const original = /** @type {THREE.Material} */ (m.material);
      const copy = hidden(original);
      m.material = copy;
      // the part's meshes are released with their level (disposeGPU): the drawn look with them
      if (original !== copy && !releasing.has(copy)) {
        releasing.add(copy);
        copy.addEventListener('dispose', () => original.dispose());
      }
    }
    this.write(slot);
  }

  /** Follows the sources' world matrices and visibility; rewrites only the parts that moved. */
  sync() {
    let changed = false;
    for (const slot of this.slots) {
      const drawn = slot.meshes.length > 0 && slot.meshes.every(inDrawnScene);
      let moved = drawn !== slot.drawn;
      for (let i = 0; i < slot.meshes.length && !moved; i++) {
        const m = slot.meshes[i];
        m.updateWorldMatrix(true, false);
        const e = m.matrixWorld.elements;
        for (let k = 0; k < 16 && !moved; k++) moved = slot.matrices[i * 16 + k] !== e[k];
      }
      if (moved) { this.write(slot); changed = true; }
    }
    if (changed) this.finishWrites();
  }

  /**
   * Writes the slot's meshes (world space) into its range: positions, normals and indices; the
   * rest of the range (and all of it while the part is not shown) is degenerate triangles.
   * @param {Slot} slot
   */
  write(slot) {
    const g = this.mesh.geometry;
    const position = /** @type {THREE.BufferAttribute} */ (g.attributes.position);
    const normal = /** @type {THREE.BufferAttribute} */ (g.attributes.normal);
    const index = /** @type {THREE.BufferAttribute} */ (g.index);
    slot.drawn = slot.meshes.length > 0 && slot.meshes.every(inDrawnScene);
    slot.matrices = new Float32Array(slot.meshes.length * 16);
    let vertexAt = slot.vertexStart;
    let indexAt = slot.indexStart;
    const v = new THREE.Vector3();
    const normalMatrix = new THREE.Matrix3();
    slot.meshes.forEach((m, n) => {
      m.updateWorldMatrix(true, false);
      slot.matrices.set(m.matrixWorld.elements, n * 16);
      if (!slot.drawn) return;
      normalMatrix.getNormalMatrix(m.matrixWorld);
      const { position: p, normal: nn } = m.geometry.attributes;
      for (let i = 0; i < p.count; i++) {
        v.fromBufferAttribute(p, i).applyMatrix4(m.matrixWorld).toArray(position.array, (vertexAt + i) * 3);
        v.fromBufferAttribute(nn, i).applyMatrix3(normalMatrix).normalize().toArray(normal.array, (vertexAt + i) * 3);
      }
      // a mirroring transform turns the winding over: turn it back so front faces stay front
      const flip = m.matrixWorld.determinant() < 0;
      const source = m.geometry.index;
      const count = source ? source.count : p.count;
      for (let i = 0; i < count; i += 3) {
        const a = source ? source.getX(i) : i;
        const b = source ? source.getX(i + 1) : i + 1;
        const d = source ? source.getX(i + 2) : i + 2;
        index.array[indexAt++] = vertexAt + a;
        index.array[indexAt++] = vertexAt + (flip ? d : b);
        index.array[indexAt++] = vertexAt + (flip ? b : d);
      }
      vertexAt += p.count;
    });
    slot.written = vertexAt - slot.vertexStart;
    boundWritten(slot, position);
    index.array.fill(slot.vertexStart, indexAt, slot.indexStart + slot.indices);
    position.addUpdateRange(slot.vertexStart * 3, slot.vertices * 3);
    normal.addUpdateRange(slot.vertexStart * 3, slot.vertices * 3);
    index.addUpdateRange(slot.indexStart, slot.indices);
    position.needsUpdate = true;
    normal.needsUpdate = true;
    index.needsUpdate = true;
  }

  /** The whole mesh's bounds (depth sorting) cover every drawn part; culling is per part. */
  finishWrites() {
    const box = new THREE.Box3();
    for (const slot of this.slots) box.union(slot.box);
    const g = this.mesh.geometry;
    g.boundingBox = box;
    g.boundingSphere = box.isEmpty() ? new THREE.Sphere() : box.getBoundingSphere(new THREE.Sphere());
  }
}

/**
 * The slot's box and bounding sphere (world space), the sphere as three bounds a geometry:
 * around its box's centre. The whole mesh's box is the union of its slots' (`finishWrites`).
 * @param {Slot} slot
 * @param {THREE.BufferAttribute} position the merged positions
 */
function boundWritten(slot, position) {
  const box = slot.box.makeEmpty();
  const v = new THREE.Vector3();
  const end = slot.vertexStart + slot.written;
  for (let i = slot.vertexStart; i < end; i++) box.expandByPoint(v.fromBufferAttribute(position, i));
  if (box.isEmpty()) { slot.sphere.makeEmpty(); return; }
  box.getCenter(slot.sphere.center);
  let r2 = 0;
  for (let i = slot.vertexStart; i < end; i++) r2 = Math.max(r2, slot.sphere.center.distanceToSquared(v.fromBufferAttribute(position, i)));
  slot.sphere.radius = Math.sqrt(r2);
}

/** hidden copies whose disposal releases the material they hide */
const releasing = new WeakSet();

/**
 * Shown: in a scene, and it and all its parents visible (a level swapped out has no scene).
 * @param {THREE.Object3D} object
 */
function inDrawnScene(object) {
  /** @type {THREE.Object3D | null} */
  let o = object;
  for (; o; o = o.parent) {
    if (!o.visible) return false;
    if (o instanceof THREE.Scene) return true;
  }
  return false;
}

/** @param {THREE.Mesh[]} meshes */
function sizeOf(meshes) {
  let vertices = 0;
  let indices = 0;
  for (const m of meshes) {
    vertices += m.geometry.attributes.position.count;
    indices += m.geometry.index ? m.geometry.index.count : m.geometry.attributes.position.count;
  }
  return { vertices, indices };
}
