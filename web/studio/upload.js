// @ts-check
/**
 * The studio's uploads: drop files, a folder or a zip (or choose them with the keyboard), send
 * each as a resumable tus 1.0.0 upload, and list each object's conversion as the server
 * reports it (server-sent events).
 *
 * A small uploader of our own rather than tus-js-client: the server speaks only core +
 * creation + termination, and what the studio needs on top (a drop's files created before any
 * is sent, so the server judges them together; the CSRF header; progress within a chunk)
 * is ~150 lines, against a dependency of 60 KB to vendor, audit and keep current.
 *
 * Resuming: each PATCH sends one slice (Blob.slice) of CHUNK bytes. When a request fails
 * (the network drops, the server restarts) the uploader waits, asks the server for its
 * offset (HEAD) and continues from there; it waits for the browser to be online again first.
 * The upload's URL is kept in localStorage, so a reloaded page continues a file chosen again.
 *
 * Usage: `mountUploads(element, {exhibitionId, csrfToken})`; returns `{destroy()}`. Options:
 * `csrfHeader` (default X-CSRF-Token), `lang` (default the page's), `chunkBytes` (a PATCH's
 * size; smaller behind a proxy with a lower body limit).
 */

import { publicPath } from '../js/base.js';

const CHUNK = 50 * 1024 * 1024; // one PATCH: large enough for speed, small enough to redo;
// below the body limits of common proxies (100 MB)
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000, 20000, 30000];
const STORAGE_PREFIX = 'vrculture-studio-upload:';
const TUS = { 'Tus-Resumable': '1.0.0' };

const TEXTS = {
  en: {
    drop: 'Drop scans, images of paintings, a folder or a zip here',
    or: 'or',
    chooseFiles: 'Choose files',
    chooseFolder: 'Choose a folder',
    uploads: 'Uploads',
    objects: 'Conversion',
    waiting: 'Waiting',
    sending: 'Sending',
    retrying: 'Connection lost; resuming when possible',
    offline: 'Offline; resuming when the connection is back',
    sent: 'Received',
    failed: 'Not accepted',
    queued: 'Waiting to convert',
    ahead: 'before it',
    reading: 'Reading the file',
    converting: 'Converting',
    done: 'Converted',
    cached: 'Converted (unchanged since last time)',
    triangles: 'triangles',
    levels: 'levels',
    warning: 'Warning',
    skipped: 'Not used',
  },
  sv: {
    drop: 'Släpp skanningar, bilder av målningar, en mapp eller en zip här',
    or: 'eller',
    chooseFiles: 'Välj filer',
    chooseFolder: 'Välj en mapp',
    uploads: 'Uppladdningar',
    objects: 'Konvertering',
    waiting: 'Väntar',
    sending: 'Skickar',
    retrying: 'Anslutningen bröts; fortsätter så snart det går',
    offline: 'Ingen anslutning; fortsätter när den är tillbaka',
    sent: 'Mottagen',
    failed: 'Inte godtagen',
    queued: 'Väntar på konvertering',
    ahead: 'före',
    reading: 'Läser filen',
    converting: 'Konverterar',
    done: 'Konverterad',
    cached: 'Konverterad (oförändrad sedan sist)',
    triangles: 'trianglar',
    levels: 'nivåer',
    warning: 'Varning',
    skipped: 'Används inte',
  },
};

/** @typedef {typeof TEXTS.en} Texts */
/** @typedef {{file: File, path: string}} Picked */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {string} [text]
 */
function el(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

/** @param {string} text */
function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function online() {
  if (navigator.onLine) return Promise.resolve();
  return new Promise((resolve) => window.addEventListener('online', () => resolve(undefined), { once: true }));
}

/** A refusal the client must not retry: the server's message, for the curator. */
class Refused extends Error {}

/** @param {Response | XMLHttpRequest} response */
async function messageOf(response) {
  try {
    const text = response instanceof Response ? await response.text() : response.responseText;
    const body = JSON.parse(text);
    if (body && typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP ${response.status}`;
}

/** @param {number} status */
const retryable = (status) => status === 0 || status === 408 || status === 409 || status === 423
  || status === 429 || status >= 500;

class ResumableUpload {
  /**
   * @param {{endpoint: string, picked: Picked, batch: string, headers: Record<string, string>,
   *   exhibitionId: string, chunkBytes: number, onProgress: (sent: number) => void,
   *   onRetry: (offline: boolean) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.url = '';
    this.offset = 0;
    this.stopped = false;
    /** @type {XMLHttpRequest | null} */
    this.request = null;
    const { file, path } = options.picked;
    this.key = `${STORAGE_PREFIX}${options.exhibitionId}:${path}:${file.size}:${file.lastModified}`;
  }

  /** Find the upload this file started before (a reload), or create it. */
  async create() {
    const stored = localStorage.getItem(this.key);
    if (stored && (await this.askOffset(stored))) {
      this.url = stored;
      return;
    }
    const { file, path } = this.options.picked;
    const response = await fetch(this.options.endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        ...TUS, ...this.options.headers,
        'Upload-Length': String(file.size),
        'Upload-Metadata': [
          `filename ${base64(file.name)}`, `relativePath ${base64(path)}`,
          `filetype ${base64(file.type || 'application/octet-stream')}`,
          `batch ${base64(this.options.batch)}`,
        ].join(','),
      },
    });
    if (response.status !== 201) throw new Refused(await messageOf(response));
    this.url = new URL(response.headers.get('Location') || '', location.href).href;
    this.offset = 0;
    localStorage.setItem(this.key, this.url);
  }

  /**
   * The server's offset for `url` (HEAD); false when the upload is gone.
   * @param {string} url
   */
  async askOffset(url) {
    const response = await fetch(url, { method: 'HEAD', credentials: 'same-origin', headers: { ...TUS }, cache: 'no-store' });
    if (response.status === 404 || response.status === 410) return false;
    if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
    this.offset = Number(response.headers.get('Upload-Offset') || 0);
    this.options.onProgress(this.offset);
    return true;
  }

  /** Send the rest of the file, resuming after failures until it is all there. */
  async send() {
    const size = this.options.picked.file.size;
    let failures = 0;
    while (this.offset < size && !this.stopped) {
      try {
        await this.patch();
        failures = 0;
      } catch (error) {
        if (error instanceof Refused || this.stopped) throw error;
        this.options.onRetry(!navigator.onLine);
        await sleep(RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)]);
        failures += 1;
        await online();
        try {
          if (!(await this.askOffset(this.url))) {
            localStorage.removeItem(this.key); // forgotten by the server: start over
            await this.create();
          }
        } catch {
          // still unreachable: the next round waits longer
        }
      }
    }
    localStorage.removeItem(this.key);
  }

  /** One PATCH of the next slice; XMLHttpRequest because fetch reports no upload progress. */
  patch() {
    const { file } = this.options.picked;
    const end = Math.min(this.offset + this.options.chunkBytes, file.size);
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      this.request = request;
      request.open('PATCH', this.url);
      request.withCredentials = true;
      for (const [name, value] of Object.entries({
        ...TUS, ...this.options.headers,
        'Upload-Offset': String(this.offset),
        'Content-Type': 'application/offset+octet-stream',
      })) request.setRequestHeader(name, value);
      const base = this.offset;
      request.upload.onprogress = (event) => this.options.onProgress(base + event.loaded);
      request.onload = async () => {
        if (request.status === 204) {
          this.offset = Number(request.getResponseHeader('Upload-Offset') || end);
          this.options.onProgress(this.offset);
          resolve(undefined);
        } else if (retryable(request.status)) {
          reject(Object.assign(new Error(`HTTP ${request.status}`), { status: request.status }));
        } else {
          reject(new Refused(await messageOf(request)));
        }
      };
      request.onerror = () => reject(new Error('network'));
      request.onabort = () => reject(new Error('aborted'));
      request.send(file.slice(this.offset, end));
    });
  }

  stop() {
    this.stopped = true;
    this.request?.abort();
  }
}

/**
 * The files of a drop, with their paths inside dropped folders.
 * @param {DataTransfer} transfer
 * @returns {Promise<Picked[]>}
 */
async function droppedFiles(transfer) {
  /** @type {Picked[]} */
  const picked = [];
  /** @param {FileSystemEntry} entry */
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => /** @type {FileSystemFileEntry} */ (entry).file(resolve, reject));
      picked.push({ file, path: entry.fullPath.replace(/^\//, '') });
    } else if (entry.isDirectory) {
      const reader = /** @type {FileSystemDirectoryEntry} */ (entry).createReader();
      for (;;) { // readEntries answers in pages
        /** @type {FileSystemEntry[]} */
        const entries = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!entries.length) break;
        for (const child of entries) await walk(child);
      }
    }
  };
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e) => e);
  if (entries.length) {
    for (const entry of entries) await walk(/** @type {FileSystemEntry} */ (entry));
  } else {
    for (const file of transfer.files) picked.push({ file, path: file.name });
  }
  return picked;
}

/** @param {FileList | null} files */
function chosenFiles(files) {
  return [...(files || [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** @param {number} bytes */
function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0)} MB`;
}

/**
 * @param {HTMLElement} element
 * @param {{exhibitionId: string, csrfToken: string, csrfHeader?: string, lang?: string,
 *   chunkBytes?: number}} options
 */
export function mountUploads(element, {
  exhibitionId, csrfToken, csrfHeader = 'X-CSRF-Token', lang, chunkBytes = CHUNK,
}) {
  const language = (lang || document.documentElement.lang || 'en').slice(0, 2);
  /** @type {Texts} */
  const t = language === 'sv' ? TEXTS.sv : TEXTS.en;
  const api = publicPath(`studio/api/exhibitions/${encodeURIComponent(exhibitionId)}`);
  const headers = { [csrfHeader]: csrfToken };
  /** @type {Set<ResumableUpload>} */
  const running = new Set();

  element.classList.add('studio-uploads');
  const zone = el('div', { class: 'studio-drop' });
  const fileInput = /** @type {HTMLInputElement} */ (el('input', { type: 'file', multiple: '', id: `${exhibitionId}-upload-files` }));
  const folderInput = /** @type {HTMLInputElement} */ (el('input', { type: 'file', webkitdirectory: '', id: `${exhibitionId}-upload-folder` }));
  zone.append(el('p', {}, t.drop), el('span', {}, ` ${t.or} `),
    el('label', { for: fileInput.id }, t.chooseFiles), fileInput,
    el('label', { for: folderInput.id }, t.chooseFolder), folderInput);
  const uploadList = el('ul', { class: 'studio-upload-list', 'aria-label': t.uploads });
  const objectList = el('ul', { class: 'studio-object-list', 'aria-label': t.objects, 'aria-live': 'polite' });
  element.append(zone, uploadList, objectList);

  /** @param {Picked} picked */
  function row(picked) {
    const item = el('li', { class: 'studio-upload' });
    const bar = el('div', {
      role: 'progressbar', 'aria-label': picked.path, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
    });
    const fill = el('div', { class: 'studio-upload-fill' });
    bar.append(fill);
    const status = el('span', { class: 'studio-upload-status' }, t.waiting);
    item.append(el('span', { class: 'studio-upload-name' }, picked.path), bar, status);
    uploadList.append(item);
    return {
      /** @param {number} sent */
      progress(sent) {
        const percent = picked.file.size ? Math.floor((100 * sent) / picked.file.size) : 100;
        bar.setAttribute('aria-valuenow', String(percent));
        bar.setAttribute('aria-valuetext', `${percent}% (${megabytes(sent)} / ${megabytes(picked.file.size)})`);
        fill.style.width = `${percent}%`;
        status.textContent = sent >= picked.file.size ? t.sent : `${t.sending} ${percent}%`;
      },
      /** @param {string} text @param {string} [kind] */
      say(text, kind = '') {
        status.textContent = text;
        item.dataset.state = kind;
      },
    };
  }

  /** Create every upload of a drop first (the server judges a drop's files together), then
   * send them one after the other. @param {Picked[]} pickedFiles */
  async function start(pickedFiles) {
    const wanted = pickedFiles.filter(({ path }) => !path.split('/').some((part) => part.startsWith('.')));
    const batch = `drop-${crypto.getRandomValues(new Uint32Array(2)).join('-')}`;
    const prepared = [];
    for (const picked of wanted) {
      const view = row(picked);
      const upload = new ResumableUpload({
        endpoint: `${api}/uploads`, picked, batch, headers, exhibitionId, chunkBytes,
        onProgress: (sent) => view.progress(sent),
        onRetry: (offline) => view.say(offline ? t.offline : t.retrying, 'retrying'),
      });
      try {
        await upload.create();
        prepared.push({ upload, view });
      } catch (error) {
        view.say(`${t.failed}: ${error instanceof Error ? error.message : error}`, 'failed');
      }
    }
    for (const { upload, view } of prepared) {
      running.add(upload);
      try {
        await upload.send();
        view.progress(upload.options.picked.file.size);
        view.say(t.sent, 'done');
      } catch (error) {
        if (!upload.stopped) view.say(`${t.failed}: ${error instanceof Error ? error.message : error}`, 'failed');
      } finally {
        running.delete(upload);
      }
    }
  }

  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('studio-drop-active');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('studio-drop-active'));
  zone.addEventListener('drop', async (event) => {
    event.preventDefault();
    zone.classList.remove('studio-drop-active');
    if (event.dataTransfer) start(await droppedFiles(event.dataTransfer));
  });
  for (const input of [fileInput, folderInput]) {
    input.addEventListener('change', () => {
      start(chosenFiles(input.files));
      input.value = '';
    });
  }

  // --- conversion progress --------------------------------------------------------------
  /** @type {Map<string, HTMLElement>} */
  const objectRows = new Map();

  /** @param {string} kind @param {Record<string, any>} data */
  function showObject(kind, data) {
    if (!data.object) {
      if (kind === 'failed' && data.message) objectList.append(el('li', { class: 'studio-object', 'data-state': 'failed' }, data.message));
      return;
    }
    let item = objectRows.get(data.object);
    if (!item) {
      item = el('li', { class: 'studio-object', 'data-object': data.object });
      objectRows.set(data.object, item);
      objectList.append(item);
    }
    item.dataset.state = kind;
    item.replaceChildren(el('span', { class: 'studio-object-name' }, data.file || data.object));
    let text = data.ahead ? `${t.queued} (${data.ahead} ${t.ahead})` : t.queued;
    if (kind === 'converting') text = data.stage === 'reading' ? t.reading : t.converting;
    if (kind === 'done') {
      text = `${data.cached ? t.cached : t.done}: ${Number(data.triangles).toLocaleString(language)} ${t.triangles}, `
        + `${(data.levels || []).length} ${t.levels}, ${megabytes(data.bytes || 0)}`;
    }
    if (kind === 'failed') text = data.message;
    item.append(el('span', { class: 'studio-object-status', ...(kind === 'failed' ? { role: 'alert' } : {}) }, text));
    const warnings = kind === 'done' ? data.warnings || [] : [];
    if (warnings.length) {
      const list = el('ul', { class: 'studio-object-warnings' });
      for (const warning of warnings) list.append(el('li', {}, `${t.warning}: ${warning}`));
      item.append(list);
    }
  }

  async function loadStates() {
    const response = await fetch(`${api}/uploads`, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) return;
    const { objects, uploads } = await response.json();
    for (const [, state] of Object.entries(objects || {})) showObject(state.event, state);
    for (const upload of uploads || []) {
      if (upload.error) showObject('failed', { message: `${upload.name}: ${upload.error}` });
    }
  }

  const source = new EventSource(`${api}/events`);
  for (const kind of ['queued', 'converting', 'done', 'failed']) {
    source.addEventListener(kind, (event) => showObject(kind, JSON.parse(/** @type {MessageEvent} */ (event).data)));
  }
  source.addEventListener('upload', (event) => {
    for (const skipped of JSON.parse(/** @type {MessageEvent} */ (event).data).skipped || []) {
      objectList.append(el('li', { class: 'studio-object', 'data-state': 'skipped' }, `${t.skipped}: ${skipped}`));
    }
  });
  source.addEventListener('reset', () => { loadStates(); }); // events were missed: re-read
  loadStates();

  return {
    destroy() {
      source.close();
      for (const upload of running) upload.stop();
      element.replaceChildren();
    },
  };
}
