// Loads GLB files with three.js's own GLTFLoader + MeshoptDecoder in Node and prints one JSON
// line per file: triangles, vertices, node names, world bounds, textures loaded.
// Node has no DOM image decoder: JPEG/PNG/WebP images fail to decode here and are reported
// as `texturesSkipped` (three.js logs and continues). KTX2 needs KTX2Loader's transcoder in a
// Worker, which Node lacks, so files requiring KHR_texture_basisu are not loaded here: they are
// reported as {"skipped": "ktx2"}; the validator still checks their KTX2 images. Geometry,
// quantisation, texture transforms and meshopt decoding are what this checks.
import { readFile } from "node:fs/promises";
import * as THREE from "three";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { MeshoptDecoder } from "three/examples/jsm/libs/meshopt_decoder.module.js";

// GLTFLoader reaches image decoding through `self.URL`; give it Node's globals so a texture
// fails to decode (no DOM) instead of the whole parse.
globalThis.self ??= globalThis;

const quietErrors = [];
console.error = (...args) => quietErrors.push(args.map(String).join(" "));
console.warn = console.error;

function parse(loader, buffer) {
  return new Promise((resolve, reject) => loader.parse(buffer, "", resolve, reject));
}

for (const file of process.argv.slice(2)) {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const loader = new GLTFLoader();
  loader.setMeshoptDecoder(MeshoptDecoder);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + bytes.readUInt32LE(12))));
  if ((json.extensionsRequired || []).includes("KHR_texture_basisu")) {
    console.log(JSON.stringify({ file, skipped: "ktx2" }));
    continue;
  }
  quietErrors.length = 0;
  let gltf;
  try {
    gltf = await parse(loader, buffer);
  } catch (err) {
    console.log(JSON.stringify({ file, error: String(err?.message ?? err) }));
    continue;
  }
  let triangles = 0;
  let vertices = 0;
  let meshes = 0;
  let texturesLoaded = 0;
  const names = [];
  gltf.scene.updateMatrixWorld(true);
  gltf.scene.traverse((object) => {
    if (object.name) names.push(object.name);
    if (!object.isMesh) return;
    meshes += 1;
    const geometry = object.geometry;
    vertices += geometry.attributes.position.count;
    triangles += (geometry.index ? geometry.index.count : geometry.attributes.position.count) / 3;
    if (object.material?.map) texturesLoaded += 1;
  });
  const box = new THREE.Box3().setFromObject(gltf.scene);
  console.log(JSON.stringify({
    file, triangles, vertices, meshes, names, texturesLoaded,
    texturesSkipped: quietErrors.filter((m) => m.includes("texture")).length,
    bounds: { min: box.min.toArray(), max: box.max.toArray() },
    errors: quietErrors.filter((m) => !m.includes("texture")),
  }));
}
