// @ts-check
// Levels of detail: every object's lowest level first (so the whole room appears quickly), then
// sharper levels for the objects that cover the most screen, while the sum of the displayed (and
// in-flight) levels' triangles and GPU texture bytes stays within the budget. A level that fails
// keeps the lower one and is reported; an object whose every level fails shows a neutral stand-in.
import * as THREE from 'three';
import { loadGLB, disposeGPU } from './loaders.js';
import { viewerState, now, record, reportError } from './state.js';
import { chooseLevel, pixelsPerMetre, textureSpan } from './levelchoice.js';

// Quest-class defaults (stereo at 72-90 Hz): what a Quest 2/3 draws comfortably per eye.
export const DEFAULT_BUDGET = { triangles: 400_000, gpuTextureBytes: 384 * 1024 * 1024 };
const MAX_PARALLEL = 3; // sharper levels in flight at once (lowest levels: 4)
const LINK_AFTER_FRAMES = 3; // the driver's time for a compile before the program's first use
/** geometry a frame may upload ahead of its first visible draw (SwiftShader: ~1 ms a MiB) */
const GEOMETRY_BYTES_PER_FRAME = 2 * 1024 * 1024;
/** meshes a frame may upload ahead of their first visible draw: each has a first-draw set-up too */
const MESHES_PER_FRAME = 4;
/**
 * canvas pixels a frame may read for a texture's upload: reading a 2D canvas is the slow part of
 * uploading it (SwiftShader: 6-12 ms a megapixel, 10-33 ms for the programme wall's in one go)
 */
const CANVAS_PIXELS_PER_FRAME = 256 * 1024;
/** frames the queue waits at most for the GPU to finish an upload (see `gpuBusy`) */
const MAX_FENCE_WAITS = 60;
/** the layer of the one-pixel draw that uploads a part's geometry (see `drawToUpload`) */
const UPLOAD_LAYER = 31;
const LEVEL_ORDER = ['low', 'medium', 'high', 'full'];
const scratch = new THREE.Vector3();

/** @typedef {import('./manifest.js').Level} Level */
/**
 * One part on its way to the screen (see `LevelManager.flush`).
 * @typedef {{root: THREE.Object3D, parent: THREE.Object3D | null, show: () => void, meshes: THREE.Object3D[] | null,
 *   compiling: Promise<unknown>[], compiled: boolean | null, programs: Program[], linkFrom: number,
 *   textures: THREE.Texture[] | null, geometries: THREE.Mesh[] | null}} Job
 */
/**
 * What `renderer.info.programs` holds (three's WebGLProgram; not in its type declarations).
 * @typedef {{isReady: () => boolean, getUniforms: () => unknown, usedTimes: number, program: WebGLProgram,
 *   name: string}} Program
 */
/** @typedef {{triangles: number, gpuTextureBytes: number, ignoreScreenSize?: boolean}} Budget */
/**
 * One object's levels and what is shown, loading and cached of them.
 * @typedef {{id: string, levels: Level[], holder: THREE.Object3D, centre: THREE.Vector3, radius: number,
 *   shown: number, pending: number, failed: Set<number>, cache: Map<number, THREE.Object3D>, pixels: number,
 *   desired: number, textureSpan: number, placeholder?: THREE.Mesh | null}} Item
 */

/**
 * @param {import('./manifest.js').Manifest} manifest
 * @returns {Budget}
 */
export function budgetFromPage(manifest) {
  const q = new URLSearchParams(location.search);
  /** @param {string | null} v */
  const num = (v) => (v != null && /^\d+(\.\d+)?(e\d+)?$/i.test(v) ? Number(v) : null);
  return {
    triangles: num(q.get('budget_tris')) ?? manifest.budget?.triangles ?? DEFAULT_BUDGET.triangles,
    gpuTextureBytes: num(q.get('budget_tex')) ?? manifest.budget?.gpu_texture_bytes ?? DEFAULT_BUDGET.gpuTextureBytes,
    ignoreScreenSize: q.get('lod') === 'max',
  };
}

export class LevelManager {
  /**
   * @param {{loader: import('three/addons/loaders/GLTFLoader.js').GLTFLoader, urlFor: (url: string) => string,
   *   budget: Budget, onLevel?: (id: string, level: string) => void}} options
   */
  constructor({ loader, urlFor, budget, onLevel }) {
    this.loader = loader;
    this.urlFor = urlFor;
    this.budget = budget;
    this.onLevel = onLevel || (() => {});
    this.wake = () => {};
    /** @type {Map<string, Item>} */
    this.items = new Map();
    this.active = 0;
    this.phase = 'lowest'; // 'lowest' until every object's first level is shown, then 'refine'
    this.idleSince = null;
    /**
     * Levels (and other parts, see `prepare`) waiting to be shown: `flush` (once per frame) does
     * one step of the first job in the queue, so that no drawn frame compiles a shader program or
     * uploads a texture on its own: compile the job's programs (compileAsync: off the frame with
     * KHR_parallel_shader_compile), finish linking them one per frame, upload one texture per
     * frame, upload its geometry (a one-pixel draw of it, a few MiB a frame), then show it: the
     * frame that first shows it only draws.
     * @type {Job[]}
     */
    this.swaps = [];
    /**
     * What the last flush did, for the frame log that tests read: programs compiled by its
     * one-pixel draw (`drawCompiles`, none expected) and meshes whose geometry it uploaded.
     */
    this.lastFlush = { swaps: 0, uploads: 0, compiles: 0, drawCompiles: 0, geometries: 0, canvasPixels: 0, canvasUploaded: 0,
      gpuWaits: 0 };
    /** @type {WebGLSync | null} the last upload's end (see `fence`) */
    this.uploadFence = null;
    this.fenceWaits = 0; // frames the queue has waited for it
    this.flushes = 0; // frames flushed: a program is linked a few frames after its compile
    /** @type {THREE.Camera | null} the camera and scene programs are compiled for (`setView`) */
    this.camera = null;
    /** @type {THREE.Scene | null} */
    this.scene = null;
    viewerState.budget.triangles = budget.triangles;
    viewerState.budget.gpuTextureBytes = budget.gpuTextureBytes;
  }

  /**
   * @param {string} id
   * @param {import('./manifest.js').ObjectRecord} record the manifest object (levels ordered low -> high)
   * @param {THREE.Object3D} holder a placed Group
   */
  add(id, record, holder) {
    const rightsMax = record.rights && record.rights.max_level;
    const levels = record.levels.filter((l) => !rightsMax || LEVEL_ORDER.indexOf(l.name) <= LEVEL_ORDER.indexOf(rightsMax));
    const b = record.bounds || { min: [-0.5, 0, -0.5], max: [0.5, 1, 0.5] };
    const centre = new THREE.Vector3().fromArray(b.min).add(new THREE.Vector3().fromArray(b.max)).multiplyScalar(0.5);
    const radius = Math.max(0.05, new THREE.Vector3().fromArray(b.max).sub(new THREE.Vector3().fromArray(b.min)).length() / 2);
    this.items.set(id, {
      id, levels: levels.length ? levels : record.levels.slice(0, 1), holder, centre, radius,
      shown: -1, pending: -1, failed: new Set(), cache: new Map(), pixels: 0, desired: 0,
      textureSpan: textureSpan(record.kind, b),
    });
  }

  /**
   * @param {Item} item
   * @param {number} index
   * @param {'triangles' | 'gpu_texture_bytes'} key
   */
  cost(item, index, key) {
    return index < 0 ? 0 : item.levels[index][key] || 0;
  }

  /**
   * Budget use counts the in-flight level too, so a swap can never overshoot.
   * @param {'triangles' | 'gpu_texture_bytes'} key
   */
  used(key) {
    let sum = 0;
    for (const it of this.items.values()) sum += this.cost(it, Math.max(it.shown, it.pending, 0), key);
    return sum;
  }

  publishUsage() {
    const b = viewerState.budget;
    b.usedTriangles = this.used('triangles');
    b.usedGpuTextureBytes = this.used('gpu_texture_bytes');
    b.maxUsedTriangles = Math.max(b.maxUsedTriangles, b.usedTriangles);
  }

  /**
   * Loads every lowest level, nearest first; resolves when all have loaded or failed.
   * @param {THREE.Vector3} from
   */
  async loadLowest(from) {
    const order = [...this.items.values()].sort((a, b) => this.distance(a, from) - this.distance(b, from));
    const queue = order.slice();
    const worker = async () => {
      for (let it = queue.shift(); it; it = queue.shift()) await this.loadFirstAvailable(it);
    };
    await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    // sharper levels wait for `refine()`: the first frame (after the whole scene is compiled and
    // uploaded) comes before them
  }

  /** @param {Item} it */
  async loadFirstAvailable(it) {
    for (let i = 0; i < it.levels.length; i++) {
      if (await this.loadLevel(it, i)) return;
      // the lowest failed: try the next one up rather than leave the plinth empty
    }
    this.showPlaceholder(it);
  }

  /**
   * @param {Item} it
   * @param {THREE.Vector3} from
   */
  distance(it, from) {
    return scratch.copy(it.centre).applyMatrix4(it.holder.matrixWorld).distanceTo(from);
  }

  /**
   * @param {Item} it
   * @param {number} index
   */
  async loadLevel(it, index) {
    const level = it.levels[index];
    it.pending = index;
    this.publishUsage();
    this.active++;
    /** @type {import('./state.js').LevelLoad} */
    const entry = { object: it.id, level: level.name, index, ok: false, bytes: level.bytes, startedAt: Math.round(now()), doneAt: null };
    record('levelLoads', entry);
    try {
      const { scene } = await loadGLB(this.loader, this.urlFor(level.url));
      scene.traverse((o) => { o.userData.selectId = it.id; });
      it.cache.set(index, scene);
      entry.ok = true;
      await this.queueShow(it, index);
      return true;
    } catch (err) {
      it.failed.add(index);
      record('levelFailures', { object: it.id, level: level.name, message: err instanceof Error ? err.message : String(err) });
      reportError(`level ${it.id}/${level.name}`, err);
      return false;
    } finally {
      entry.doneAt = Math.round(now());
      viewerState.assetBytesTotal += entry.ok ? level.bytes : 0;
      it.pending = -1;
      this.active--;
      this.publishUsage();
      this.wake(); // a load slot is free: choose the next level now, not at the next tick
    }
  }

  /**
   * The camera and scene that queued parts are compiled for (their lights and environment).
   * @param {THREE.Camera} camera
   * @param {THREE.Scene} scene
   */
  setView(camera, scene) {
    this.camera = camera;
    this.scene = scene;
  }

  /**
   * Swaps the level in at a coming frame (see `flush`); resolves once it is shown.
   * @param {Item} it
   * @param {number} index
   * @returns {Promise<void>}
   */
  queueShow(it, index) {
    it.pending = index;
    const root = it.cache.get(index);
    return new Promise((resolve) => {
      this.enqueue(root || new THREE.Object3D(), it.holder, () => {
        this.show(it, index);
        if (it.pending === index) it.pending = -1;
        resolve();
      });
    });
  }

  /**
   * Compiles and uploads `root` over coming frames (see `flush`) and resolves before it is
   * shown: for parts the caller adds to the scene itself (the architecture, the merged parts).
   * @param {THREE.Object3D} root
   * @returns {Promise<void>}
   */
  prepare(root) {
    return new Promise((resolve) => { this.enqueue(root, null, resolve); });
  }

  /**
   * As `prepare`, but ahead of every job already queued (a step of the job in progress so far
   * is kept): for the headset's own parts, which wait for nothing else.
   * @param {THREE.Object3D} root
   * @returns {Promise<void>}
   */
  prepareFirst(root) {
    return new Promise((resolve) => {
      this.enqueue(root, null, resolve);
      this.swaps.unshift(/** @type {Job} */ (this.swaps.pop()));
    });
  }

  /**
   * @param {THREE.Object3D} root
   * @param {THREE.Object3D | null} parent where it will be shown (null: the scene), for its
   *   one-pixel draw while it is not in the scene yet
   * @param {() => void} show
   */
  enqueue(root, parent, show) {
    this.swaps.push({ root, parent, show, meshes: null, compiling: [], compiled: null, programs: [], linkFrom: 0,
      textures: null, geometries: null });
  }

  /** A frame without a step (see `flush`): nothing of the last step is reported again. */
  skipFlush() {
    const f = this.lastFlush;
    f.swaps = 0;
    f.uploads = 0;
    f.compiles = 0;
    f.drawCompiles = 0;
    f.geometries = 0;
    f.canvasPixels = 0;
    f.canvasUploaded = 0;
    f.gpuWaits = 0;
  }

  /**
   * Once per frame: one step of the first queued job (see `swaps`).
   * @param {THREE.WebGLRenderer} renderer
   */
  flush(renderer) {
    const f = this.lastFlush;
    this.skipFlush();
    this.flushes++;
    const job = this.swaps[0];
    if (!job || !this.camera || !this.scene) return;
    if (this.gpuBusy(renderer)) return;
    if (!job.meshes) job.meshes = drawnMeshes(job.root);
    const mesh = job.meshes.shift();
    if (mesh) {
      // one kind of mesh a frame: compile() issues the driver's compiles, which it works on
      // while the coming frames run (in parallel, and waitable, with KHR_parallel_shader_compile)
      const programs = /** @type {Program[]} */ (/** @type {unknown} */ (renderer.info.programs || []));
      const known = new Set(programs);
      job.compiling.push(renderer.compileAsync(mesh, this.camera, this.scene));
      job.programs.push(...programs.filter((p) => !known.has(p)));
      job.linkFrom = this.flushes + LINK_AFTER_FRAMES;
      f.compiles = 1;
      return;
    }
    if (job.compiled === null) {
      // compileAsync resolves once the driver says the programs are ready (right away, or
      // after a short wait, without KHR_parallel_shader_compile)
      job.compiled = false;
      Promise.all(job.compiling).then(() => { job.compiled = true; });
    }
    if (!job.compiled) return;
    const program = job.programs[0];
    if (program) {
      // without KHR_parallel_shader_compile three cannot tell when a program is linked (isReady
      // is always true) and its first use waits for the driver: use each new program once,
      // one a frame and a few frames after its compile was issued, before a draw needs it
      if (this.flushes < job.linkFrom || !program.isReady()) return;
      job.programs.shift();
      if (program.usedTimes === 0) return; // released meanwhile (its material was disposed)
      program.getUniforms();
      checkLinked(renderer, program);
      f.compiles = 1;
      return;
    }
    if (!job.textures) job.textures = texturesOf(job.root);
    const next = job.textures[0];
    if (next) {
      f.uploads = 1;
      const canvas = canvasPixels(next);
      if (canvas) {
        // a canvas is read a strip a frame, then uploaded from the pixels read, a strip a frame
        // too (a whole 1024² or 1536x1024 canvas held a drawn frame 6-17 ms in texSubImage2D)
        if (canvas.read < canvas.height) {
          f.canvasPixels = canvas.width * Math.min(canvas.rows, canvas.height - canvas.read);
          readStrip(canvas);
          return;
        }
        f.canvasUploaded = uploadStrip(renderer, next, canvas);
        if (canvas.uploaded < canvas.height) {
          this.fence(renderer);
          return;
        }
        canvasReads.delete(next);
      } else {
        renderer.initTexture(next);
      }
      job.textures.shift();
      uploaded.add(next);
      this.fence(renderer);
      return;
    }
    if (!job.geometries) job.geometries = meshesToUpload(job.root);
    if (job.geometries.length) {
      // three has no call that uploads a geometry without drawing it: draw the next meshes
      // once, into one pixel, with the programs and textures they will be shown with
      /** @type {THREE.Mesh[]} */
      const batch = [];
      let bytes = 0;
      while (job.geometries.length && batch.length < MESHES_PER_FRAME) {
        const size = geometryBytes(job.geometries[0].geometry);
        if (batch.length && bytes + size > GEOMETRY_BYTES_PER_FRAME) break;
        bytes += size;
        batch.push(/** @type {THREE.Mesh} */ (job.geometries.shift()));
      }
      f.drawCompiles = this.drawToUpload(renderer, job, batch);
      f.geometries = batch.length;
      this.fence(renderer);
      return;
    }
    this.swaps.shift();
    job.show();
    f.swaps = 1;
  }

  /**
   * Marks the end of an upload's GPU work (a texture's transfer and mipmaps, a geometry's
   * buffers): the next step waits for it (see `gpuBusy`).
   * @param {THREE.WebGLRenderer} renderer
   */
  fence(renderer) {
    const gl = renderer.getContext();
    // (sent to the GPU with the frame's commands: no flush of its own)
    if (gl instanceof WebGL2RenderingContext) this.uploadFence = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  }

  /**
   * Whether the GPU still works on the last upload: then this frame does no step. Asked without
   * waiting; without it the next upload waited, in a drawn frame, for the GPU process to finish
   * the last one (SwiftShader: an sRGB texture's mipmaps take it 70-200 ms).
   * @param {THREE.WebGLRenderer} renderer
   */
  gpuBusy(renderer) {
    const gl = renderer.getContext();
    if (!this.uploadFence || !(gl instanceof WebGL2RenderingContext)) return false;
    // (a fence that never signals, a lost context: not waited on for more than a second or so)
    if (gl.getSyncParameter(this.uploadFence, gl.SYNC_STATUS) !== gl.SIGNALED && this.fenceWaits++ < MAX_FENCE_WAITS) {
      this.lastFlush.gpuWaits = 1;
      return true;
    }
    this.fenceWaits = 0;
    gl.deleteSync(this.uploadFence);
    this.uploadFence = null;
    return false;
  }

  /**
   * Draws `batch` (meshes of `job`) once into one pixel of the current target, which the frame's
   * own draw clears: three uploads their geometry (and binds their vertex arrays) on a first
   * draw. Only they and the scene's lights are on the layer drawn, so the scene's lighting, and
   * with it their programs, are those compiled for them; returns the programs it compiled.
   * @param {THREE.WebGLRenderer} renderer
   * @param {Job} job
   * @param {THREE.Mesh[]} batch
   */
  drawToUpload(renderer, job, batch) {
    const scene = /** @type {THREE.Scene} */ (this.scene);
    const camera = /** @type {THREE.Camera} */ (this.camera);
    const detached = job.root !== scene && !job.root.parent;
    if (detached) (job.parent || scene).add(job.root);
    /** @type {[THREE.Object3D, number, boolean, boolean][]} */
    const saved = [];
    /** @param {THREE.Object3D} o */
    const save = (o) => { saved.push([o, o.layers.mask, o.visible, o.frustumCulled]); };
    for (const mesh of batch) {
      // the bounds a frame's culling and the controllers' rays would otherwise compute on first
      // meeting the mesh (a pass over its vertices: the session's first XR frame paid for them)
      const g = mesh.geometry;
      if (!g.boundingBox) g.computeBoundingBox();
      if (!g.boundingSphere) g.computeBoundingSphere();
      if (mesh instanceof THREE.InstancedMesh && !mesh.boundingSphere) mesh.computeBoundingSphere();
      save(mesh);
      mesh.layers.enable(UPLOAD_LAYER);
      mesh.frustumCulled = false;
      // a hidden part (the VR panel until it opens) is uploaded too, before it first shows
      for (let o = /** @type {THREE.Object3D | null} */ (mesh); o && o !== scene; o = o.parent) {
        if (!o.visible) { if (o !== mesh) save(o); o.visible = true; }
      }
    }
    scene.traverse((o) => { if (o instanceof THREE.Light) { save(o); o.layers.enable(UPLOAD_LAYER); } });
    const cameraMask = camera.layers.mask;
    camera.layers.set(UPLOAD_LAYER);
    const xr = renderer.xr.enabled;
    // in XR: into the headset's target as a plain render (the same output, so the same programs)
    renderer.xr.enabled = false;
    const state = renderer.state;
    state.setScissorTest(true);
    state.scissor(onePixel);
    const programs = renderer.info.programs?.length ?? 0;
    try {
      renderer.render(scene, camera);
    } finally {
      state.setScissorTest(renderer.getScissorTest());
      renderer.setScissor(renderer.getScissor(scissor));
      renderer.xr.enabled = xr;
      camera.layers.mask = cameraMask;
      for (let i = saved.length - 1; i >= 0; i--) {
        const [o, mask, visible, culled] = saved[i];
        o.layers.mask = mask;
        o.visible = visible;
        o.frustumCulled = culled;
      }
      if (detached) job.root.removeFromParent();
    }
    for (const mesh of batch) uploadedGeometries.add(mesh.geometry);
    return (renderer.info.programs?.length ?? 0) - programs;
  }

  /**
   * @param {Item} it
   * @param {number} index
   */
  show(it, index) {
    const scene = it.cache.get(index);
    if (!scene) return;
    const old = it.shown >= 0 ? it.cache.get(it.shown) : null;
    if (it.placeholder) { it.holder.remove(it.placeholder); it.placeholder = null; }
    if (old && old !== scene) {
      it.holder.remove(old);
      // the lowest level stays in memory as the instant fallback; a replaced sharper level is
      // released (GPU and, by dropping it from the cache, CPU memory: a headset has little of
      // both) and fetched again from the HTTP cache (immutable names) if it is wanted later
      if (it.shown > 0) {
        disposeGPU(old);
        it.cache.delete(it.shown);
      }
    }
    it.holder.add(scene);
    it.shown = index;
    viewerState.levels[it.id] = it.levels[index].name;
    this.onLevel(it.id, it.levels[index].name);
  }

  /** @param {Item} it */
  showPlaceholder(it) {
    if (it.placeholder) return;
    const size = it.radius * 1.2;
    const mesh = new THREE.Mesh(new THREE.BoxGeometry(size, size, size),
      new THREE.MeshStandardMaterial({ color: 0x9a968e, roughness: 0.9 }));
    mesh.position.copy(it.centre);
    mesh.userData.selectId = it.id;
    mesh.userData.placeholder = true;
    it.holder.add(mesh);
    it.placeholder = mesh;
    viewerState.placeholders.push(it.id);
    viewerState.levels[it.id] = 'placeholder';
  }

  /** From now on, `update` chooses sharper levels. */
  refine() {
    this.phase = 'refine';
    this.wake();
  }

  /**
   * Called a few times a second: decides which objects deserve a sharper (or blunter) level.
   * @param {THREE.PerspectiveCamera} camera
   * @param {number} viewportHeight pixels (per eye in XR)
   * @param {boolean} [xr] in a headset (a looser screen-space error)
   */
  update(camera, viewportHeight, xr = false) {
    if (this.phase !== 'refine') return;
    const eye = new THREE.Vector3().setFromMatrixPosition(camera.matrixWorld);
    const items = [...this.items.values()];
    for (const it of items) {
      const view = {
        distance: this.distance(it, eye), fovDeg: camera.fov, viewportHeight, radius: it.radius,
        textureSpan: it.textureSpan, xr, ignoreScreenSize: this.budget.ignoreScreenSize,
      };
      it.pixels = it.radius * pixelsPerMetre(view.distance, view.fovDeg, viewportHeight);
      const { desired, keep } = chooseLevel(it.levels, view, (i) => !it.failed.has(i));
      it.desired = desired;
      // walked away: drop to the best loaded level the screen still needs (`keep` >= desired
      // is what a twice stricter view would need, so a visitor standing at a threshold does
      // not swap levels back and forth)
      if (it.shown > keep && it.pending < 0) {
        let j = keep;
        while (j > 0 && !it.cache.has(j)) j--;
        if (it.cache.has(j)) this.queueShow(it, j);
      }
    }
    this.publishUsage();
    // biggest on screen first
    items.sort((a, b) => b.pixels - a.pixels);
    for (const it of items) {
      if (this.active >= MAX_PARALLEL) break;
      if (it.pending >= 0 || it.shown < 0 || it.desired <= it.shown) continue;
      const target = this.affordable(it);
      if (target <= it.shown) continue;
      if (it.cache.has(target)) { this.queueShow(it, target).then(() => this.publishUsage()); continue; }
      this.loadLevel(it, target).then((ok) => { if (!ok) this.publishUsage(); });
    }
    const busy = this.active > 0 || this.swaps.length > 0 || items.some((it) => it.shown >= 0 && it.desired > it.shown && this.affordable(it) > it.shown);
    if (!busy && viewerState.allHighAt == null && viewerState.firstFrameAt != null) viewerState.allHighAt = Math.round(now());
  }

  /**
   * The highest level up to `desired` whose extra triangles and texture bytes fit the budget.
   * @param {Item} it
   */
  affordable(it) {
    const tris = this.used('triangles') - this.cost(it, it.shown, 'triangles');
    const tex = this.used('gpu_texture_bytes') - this.cost(it, it.shown, 'gpu_texture_bytes');
    for (let i = it.desired; i > it.shown; i--) {
      if (it.failed.has(i)) continue;
      if (tris + this.cost(it, i, 'triangles') <= this.budget.triangles
        && tex + this.cost(it, i, 'gpu_texture_bytes') <= this.budget.gpuTextureBytes) return i;
    }
    return it.shown;
  }

}

/**
 * One mesh for each kind that needs its own program (a material with the geometry's attribute
 * set and the object's type). Hidden objects too (a panel shown later), but not a material that
 * never draws (the merged parts' sources).
 * @param {THREE.Object3D} root
 */
function drawnMeshes(root) {
  /** @type {Map<string, THREE.Object3D>} */
  const kinds = new Map();
  root.traverse((o) => {
    if (!(o instanceof THREE.Mesh || o instanceof THREE.Line || o instanceof THREE.Points || o instanceof THREE.Sprite)) return;
    const materials = Array.isArray(o.material) ? o.material : [o.material];
    if (!materials.some((m) => m && m.visible)) return;
    const attributes = Object.keys(o.geometry.attributes).sort().join();
    const key = `${materials.map((m) => m.uuid).join()}|${attributes}|${o.type}|${o.receiveShadow}`;
    if (!kinds.has(key)) kinds.set(key, o);
  });
  return [...kinds.values()];
}

/**
 * Reports a program that did not link (three's own check is off, see scene.js `createRenderer`):
 * once its uniforms have been read, the browser knows its link status without asking the GPU
 * process again; the logs are read only for a program that failed.
 * @param {THREE.WebGLRenderer} renderer
 * @param {Program} program
 */
function checkLinked(renderer, program) {
  const gl = renderer.getContext();
  if (gl.getProgramParameter(program.program, gl.LINK_STATUS)) return;
  reportError(`shader program ${program.name}`, new Error(gl.getProgramInfoLog(program.program) || 'did not link'));
}

/** textures `flush` has uploaded: a part prepared again (the whole scene at the start) skips them */
const uploaded = new WeakSet();

/**
 * The textures of a loaded part not yet uploaded by `flush`, each once.
 * @param {THREE.Object3D} root
 */
function texturesOf(root) {
  /** @type {Set<THREE.Texture>} */
  const found = new Set();
  root.traverse((o) => {
    if (!(o instanceof THREE.Mesh)) return;
    for (const m of Array.isArray(o.material) ? o.material : [o.material]) {
      for (const v of Object.values(m)) if (v instanceof THREE.Texture && !uploaded.has(v)) found.add(v);
    }
  });
  return [...found];
}

/**
 * A canvas texture's pixels on their way to its upload (see `readStrip`).
 * @typedef {{context: CanvasRenderingContext2D, width: number, height: number, rows: number,
  *   read: number, pixels: Uint8ClampedArray<ArrayBuffer>, flip: boolean, version: number,
  *   allocated: boolean, uploaded: number}} CanvasPixels
 */
/** @type {WeakMap<THREE.Texture, CanvasPixels>} */
const canvasReads = new WeakMap();

/**
 * The pixels being read for a texture drawn on a 2D canvas (the VR panel, the programme wall,
 * the smart exhibits' screens), or null for any other texture.
 * @param {THREE.Texture} texture
 * @returns {CanvasPixels | null}
 */
function canvasPixels(texture) {
  const known = canvasReads.get(texture);
  // redrawn meanwhile (a new version): read again, or the upload would mark stale pixels current
  if (known && known.version === texture.version) return known;
  const image = texture.image;
  if (!(image instanceof HTMLCanvasElement) || !image.width || !image.height || texture.version === 0
    || texture.mipmaps?.length) return null;
  // the canvas's own 2D context (null if it draws with WebGL: uploaded as it is)
  const context = /** @type {CanvasRenderingContext2D | null} */ (image.getContext('2d'));
  if (!context) return null;
  const { width, height } = image;
  const read = {
    context, width, height, rows: Math.max(1, Math.floor(CANVAS_PIXELS_PER_FRAME / width)), read: 0,
    pixels: new Uint8ClampedArray(width * height * 4), flip: texture.flipY, version: texture.version,
    allocated: false, uploaded: 0,
  };
  canvasReads.set(texture, read);
  return read;
}

/**
 * Reads the next rows of the canvas into `read.pixels` (bottom row first where the texture is
 * flipped, as WebGL's UNPACK_FLIP_Y would lay them out); returns true while rows are left.
 * @param {CanvasPixels} read
 */
function readStrip(read) {
  if (read.read >= read.height) return false;
  const rows = Math.min(read.rows, read.height - read.read);
  const strip = read.context.getImageData(0, read.read, read.width, rows).data;
  const stride = read.width * 4;
  for (let y = 0; y < rows; y++) {
    const to = read.flip ? read.height - 1 - (read.read + y) : read.read + y;
    read.pixels.set(strip.subarray(y * stride, (y + 1) * stride), to * stride);
  }
  read.read += rows;
  return true;
}

/**
 * One step of a canvas texture's upload from the pixels read: first its GPU storage (all mip
 * levels, no pixels), then a strip of rows a step, in the order WebGL's flip would have laid
 * them out (`readStrip` flipped them), the last strip with the mipmaps. Returns the pixels sent.
 * @param {THREE.WebGLRenderer} renderer
 * @param {THREE.Texture} texture
 * @param {CanvasPixels} read
 */
function uploadStrip(renderer, texture, read) {
  const source = texture.source;
  const autoMipmaps = texture.mipmapsAutoUpdate;
  if (!read.allocated) {
    // three allocates (texStorage2D) a texture whose data is not ready without uploading it
    // (none is sent: a storage already allocated is kept) and marks it current
    source.dataReady = false;
    texture.mipmapsAutoUpdate = false;
    try {
      renderer.initTexture(texture);
    } finally {
      source.dataReady = true;
      texture.mipmapsAutoUpdate = autoMipmaps;
    }
    read.allocated = true;
    return 0;
  }
  const from = read.uploaded;
  const rows = Math.min(read.rows, read.height - from);
  const flipY = texture.flipY;
  const pixels = new THREE.DataTexture(new Uint8Array(read.pixels.buffer), read.width, read.height);
  // (the rows are already in WebGL's order; mipmaps only once the last strip is in)
  texture.flipY = false;
  texture.mipmapsAutoUpdate = autoMipmaps && from + rows >= read.height;
  try {
    renderer.copyTextureToTexture(pixels, texture, new THREE.Box2(new THREE.Vector2(0, from),
      new THREE.Vector2(read.width, from + rows)), new THREE.Vector2(0, from));
  } finally {
    texture.flipY = flipY;
    texture.mipmapsAutoUpdate = autoMipmaps;
  }
  read.uploaded += rows;
  return read.width * rows;
}

/** geometries `flush` has uploaded by a one-pixel draw */
const uploadedGeometries = new WeakSet();
const onePixel = new THREE.Vector4(0, 0, 1, 1);
const scissor = new THREE.Vector4();

/**
 * One mesh for each geometry of a part not uploaded yet. A mesh whose material does not draw (the
 * merged parts' sources, hit planes) too: three uploads every visible object's geometry it meets
 * in the scene, drawn or not.
 * @param {THREE.Object3D} root
 */
function meshesToUpload(root) {
  /** @type {Map<THREE.BufferGeometry, THREE.Mesh>} */
  const found = new Map();
  root.traverse((o) => {
    if (!(o instanceof THREE.Mesh || o instanceof THREE.Line || o instanceof THREE.Points)) return;
    if (uploadedGeometries.has(o.geometry) || found.has(o.geometry)) return;
    found.set(o.geometry, /** @type {THREE.Mesh} */ (o));
  });
  return [...found.values()];
}

/**
 * Bytes of a geometry's attributes and index.
 * @param {THREE.BufferGeometry} geometry
 */
function geometryBytes(geometry) {
  let bytes = geometry.index ? geometry.index.array.byteLength : 0;
  for (const a of Object.values(geometry.attributes)) bytes += a.array ? a.array.byteLength : 0;
  return bytes;
}
