// @ts-check
// One GLTFLoader for every level: meshopt-compressed and quantised geometry and KTX2 (Basis)
// textures, with the decoders served by our own server (never a CDN).
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { Line, Mesh, MeshBasicMaterial, Points, Texture } from 'three';

/** @param {import('three').WebGLRenderer} renderer */
export function createGLTFLoader(renderer) {
  const loader = new GLTFLoader();
  const ktx2 = new KTX2Loader().setTranscoderPath('/vendor/three/examples/jsm/libs/basis/');
  ktx2.detectSupport(renderer);
  loader.setKTX2Loader(ktx2);
  // decode meshopt buffers in a worker (as the KTX2 transcoder does): a sharper level arriving
  // while the visitor looks around must not stall the frame that is being drawn
  if (typeof Worker !== 'undefined') MeshoptDecoder.useWorkers(1);
  loader.setMeshoptDecoder(MeshoptDecoder);
  return loader;
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
