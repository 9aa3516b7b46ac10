// Writes to stdout the Basis Universal transcoder worker exactly as three's KTX2Loader builds it
// in the browser (KTX2Loader.init: constants, basis_transcoder.js, BasisWorker's body), so that
// the server can serve it from its own URL. A worker made from a Blob URL inherits the page's
// Content-Security-Policy, and the transcoder (emscripten embind) needs `new Function`: served
// as a file, the worker gets its own policy and the viewer pages can refuse eval.
// Usage: node tools/basis_worker.mjs path/to/basis_transcoder.js
// tests/e2e/test_workers.py checks the output against the body the loader builds in Chromium.
import { readFileSync } from 'node:fs';
import { KTX2Loader } from 'three/addons/loaders/KTX2Loader.js';

const transcoder = readFileSync(process.argv[2], 'utf8');
const fn = KTX2Loader.BasisWorker.toString();
const body = [
  '/* constants */',
  'let _EngineFormat = ' + JSON.stringify(KTX2Loader.EngineFormat),
  'let _EngineType = ' + JSON.stringify(KTX2Loader.EngineType),
  'let _TranscoderFormat = ' + JSON.stringify(KTX2Loader.TranscoderFormat),
  'let _BasisFormat = ' + JSON.stringify(KTX2Loader.BasisFormat),
  '/* basis_transcoder.js */',
  transcoder,
  '/* worker */',
  fn.substring(fn.indexOf('{') + 1, fn.lastIndexOf('}')),
].join('\n');
process.stdout.write(body);
