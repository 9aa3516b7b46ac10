// @ts-check
// One GLTFLoader for every level: meshopt-compressed and quantised geometry and KTX2 (Basis)
// textures, with the decoders served by our own server (never a CDN).
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';
import { createMeshoptDecoder } from './meshopt.js';
import { Line, Mesh, MeshBasicMaterial, Points, Texture } from 'three';

/** @param {import('three').WebGLRenderer} renderer */
export function createGLTFLoader(renderer) {
  const loader = new GLTFLoader();
  const ktx2 = new ServedWorkerKTX2Loader().setTranscoderPath(
    new URL('../../vendor/three/examples/jsm/libs/basis/', import.meta.url).href);
  ktx2.detectSupport(renderer);
  loader.setKTX2Loader(ktx2);
  loader.setMeshoptDecoder(createMeshoptDecoder());
  return loader;
}

/** Where the server serves the transcoder's worker, built as KTX2Loader builds it. */
export const BASIS_WORKER_URL = new URL('../../vendor/basis_worker.js', import.meta.url).href;

/**
 * KTX2Loader with its transcoder worker started from BASIS_WORKER_URL instead of the Blob URL
 * it builds: a Blob worker inherits the page's policy, and the transcoder needs eval, which
 * the pages refuse (vrculture/server/security.py). The loader still builds its Blob (unused) and
 * fetches basis_transcoder.js for it (cached); the worker file holds the same text
 * (tools/basis_worker.mjs, checked in Chromium by tests/e2e/test_workers.py).
 */
class ServedWorkerKTX2Loader extends KTX2Loader {
  /** @override */
  init() {
    // (the base class's fields, through a plain reference: in a JS subclass, assigning them on
    // `this` would declare new fields to the type checker)
    const loader = /** @type {KTX2Loader} */ (this);
    if (!loader.transcoderPending) {
      loader.transcoderPending = super.init().then(() => {
        URL.revokeObjectURL(loader.workerSourceURL);
        loader.workerSourceURL = BASIS_WORKER_URL;
      });
    }
    return loader.transcoderPending;
  }
}

/**
 * Loads a GLB; resolves {scene, bytes}. Rejects with an error naming the url.
 * @param {GLTFLoader} loader
 * @param {string} url
 * @returns {Promise<{scene: import('three').Group, bytes: number}>}
 */
export function loadGLB(loader, url) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    loader.load(
      url,
      (gltf) => resolve({ scene: showUnlitAsAuthored(gltf.scene), bytes }),
      (ev) => { if (ev && ev.loaded) bytes = ev.loaded; },
      (err) => reject(new Error(`${url}: ${err instanceof Error ? err.message : String(err)}`)),
    );
  });
}

/**
 * KHR_materials_unlit surfaces (a painting's picture, labels, screens) are images to show as the
 * file has them: no tone mapping, so an sRGB pixel reaches the screen as the same sRGB value.
 * (GLTFLoader already tags base colour and emissive textures sRGB and data maps linear.)
 * @template {import('three').Object3D} T
 * @param {T} root
 * @returns {T}
 */
export function showUnlitAsAuthored(root) {
  root.traverse((o) => {
    if (!(o instanceof Mesh)) return;
    const mats = Array.isArray(o.material) ? o.material : [o.material];
    for (const m of mats) if (m instanceof MeshBasicMaterial) m.toneMapped = false;
  });
  return root;
}

/** @param {import('three').Object3D} root */
export function disposeGPU(root) {
  root.traverse((o) => {
    if (!(o instanceof Mesh || o instanceof Line || o instanceof Points)) return;
    o.geometry.dispose();
    const mats = Array.isArray(o.material) ? o.material : [o.material];
    for (const m of mats) {
      for (const v of Object.values(m)) if (v instanceof Texture) v.dispose();
      m.dispose();
    }
  });
}

/** @param {import('three').Object3D} root */
export function countTriangles(root) {
  let n = 0;
  root.traverse((o) => {
    if (!(o instanceof Mesh) || !o.geometry) return;
    const g = o.geometry;
    n += (g.index ? g.index.count : g.attributes.position.count) / 3;
  });
  return Math.round(n);
}
