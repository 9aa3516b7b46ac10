// One GLTFLoader for every level: meshopt-compressed and quantised geometry and KTX2 (Basis)
// textures, with the decoders served by our own server (never a CDN).
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';

export function createGLTFLoader(renderer) {
  const loader = new GLTFLoader();
  const ktx2 = new KTX2Loader().setTranscoderPath('/vendor/three/examples/jsm/libs/basis/');
  ktx2.detectSupport(renderer);
  loader.setKTX2Loader(ktx2);
  loader.setMeshoptDecoder(MeshoptDecoder);
  return loader;
}

/** Loads a GLB; resolves {scene, bytes}. Rejects with an error naming the url. */
export function loadGLB(loader, url) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    loader.load(
      url,
      (gltf) => resolve({ scene: gltf.scene, bytes }),
      (ev) => { if (ev && ev.loaded) bytes = ev.loaded; },
      (err) => reject(new Error(`${url}: ${err && err.message ? err.message : err}`)),
    );
  });
}

export function disposeGPU(root) {
  root.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    const mats = Array.isArray(o.material) ? o.material : o.material ? [o.material] : [];
    for (const m of mats) {
      for (const v of Object.values(m)) if (v && v.isTexture) v.dispose();
      m.dispose();
    }
  });
}

export function countTriangles(root) {
  let n = 0;
  root.traverse((o) => {
    if (!o.isMesh || !o.geometry) return;
    const g = o.geometry;
    n += (g.index ? g.index.count : g.attributes.position.count) / 3;
  });
  return Math.round(n);
}
