// @ts-check
// The meshopt decoder's worker: decodes EXT_meshopt_compression buffers off the main thread.
// Served from this server (web/js/meshopt.js starts it) rather than from the Blob URL that
// MeshoptDecoder.useWorkers makes, because a Blob worker inherits the page's policy and a file
// gets its own; the pages can then refuse workers from anywhere but 'self'.
// A worker has no import map, and its URL must stay relative (the server may sit under a base
// path, vrculture/server/basepath.py); tsc cannot map a relative URL to three's types, so they
// are named below instead.
// @ts-expect-error the served copy of three's decoder, untyped from here
import * as served from '../../vendor/three/examples/jsm/libs/meshopt_decoder.module.js';

/** @type {typeof import('three/addons/libs/meshopt_decoder.module.js').MeshoptDecoder} */
const MeshoptDecoder = served.MeshoptDecoder;

/** @typedef {{ id: number, count: number, size: number, source: Uint8Array,
 *              mode: string, filter: string }} DecodeRequest */

/** A dedicated worker's scope, typed here (the project's lib is the DOM's, not webworker's). */
const scope = /** @type {{ onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null,
  postMessage(message: unknown, transfer?: Transferable[]): void }} */ (
  /** @type {unknown} */ (self));

scope.onmessage = async (event) => {
  const { id, count, size, source, mode, filter } = event.data;
  try {
    await MeshoptDecoder.ready;
    const target = new Uint8Array(count * size);
    MeshoptDecoder.decodeGltfBuffer(target, count, size, source, mode, filter);
    scope.postMessage({ id, target }, [target.buffer]);
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
