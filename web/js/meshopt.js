// @ts-check
// The meshopt decoder GLTFLoader uses: three's MeshoptDecoder, with the decoding of a sharper
// level arriving while the visitor looks around done in a worker (meshopt-worker.js), so it
// never stalls the frame being drawn. The worker is a file of this server, not the Blob URL of
// MeshoptDecoder.useWorkers, so the pages' policy can refuse Blob workers. Where a worker
// cannot start or dies, the buffers are decoded on the main thread: slower, still correct.
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';

/** @typedef {{ resolve: (data: Uint8Array) => void, reject: (error: Error) => void,
 *              args: [number, number, Uint8Array, string, string | undefined] }} Pending */

/** @returns {Worker | null} */
function startWorker() {
  if (typeof Worker === 'undefined') return null;
  try {
    return new Worker(new URL('./meshopt-worker.js', import.meta.url), { type: 'module' });
  } catch {
    return null;
  }
}

/** @returns {typeof MeshoptDecoder} */
export function createMeshoptDecoder() {
  let worker = startWorker();
  /** @type {Map<number, Pending>} */
  const pending = new Map();
  let nextId = 0;

  /** @param {Pending['args']} args */
  const onMainThread = (args) => MeshoptDecoder.decodeGltfBufferAsync(...args);

  const giveUpWorker = () => {
    worker?.terminate();
    worker = null;
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) onMainThread(p.args).then(p.resolve, p.reject);
  };

  if (worker) {
    worker.onmessage = (event) => {
      const { id, target, error } = event.data;
      const request = pending.get(id);
      if (!request) return;
      pending.delete(id);
      if (error) request.reject(new Error(`meshopt decode: ${error}`));
      else request.resolve(target);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      console.warn(`meshopt worker failed (${event.message}); decoding on the main thread`);
      giveUpWorker();
    };
  }

  return {
    ...MeshoptDecoder,  // the synchronous decoders (their state is the module's, not `this`)
    useWorkers() {
      throw new Error('this decoder starts its own worker (MeshoptDecoder.useWorkers would use a '
        + 'Blob URL, which the pages refuse)');
    },
    decodeGltfBufferAsync(count, size, source, mode, filter) {
      /** @type {Pending['args']} */
      const args = [count, size, source, mode, filter];
      if (!worker) return onMainThread(args);
      const live = worker;
      return new Promise((resolve, reject) => {
        const id = ++nextId;
        // the worker gets a copy (transferred): `source` views the GLB, which the loader keeps
        // (and which the main thread decodes should the worker die)
        const copy = new Uint8Array(source);
        pending.set(id, { resolve, reject, args });
        live.postMessage({ id, count, size, source: copy, mode, filter }, [copy.buffer]);
      });
    },
  };
}
