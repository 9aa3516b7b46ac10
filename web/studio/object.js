// @ts-check
// One object in the studio: its converted model in a 3D view beside a 1.8 m figure, which way
// is up in its source, a turn by hand, its real height or units, its texts in every language
// (missing translations flagged) and its annotations, placed by clicking on the surface.
//
// The model shown is the studio's last build. When the curator picks another up axis or height
// since, the view turns and scales that build as the next build will convert the source, so an
// annotation's position and normal are taken in the frame the builder will write (+Y up, base
// centred, metres). The turn is shown on a parent group: it turns the object in its room and
// leaves that frame alone.
import {
  AmbientLight, Box3, CapsuleGeometry, Color, DirectionalLight, GridHelper, Group, Matrix4, Mesh,
  MeshStandardMaterial, PerspectiveCamera, Raycaster, Scene, SphereGeometry, Vector2, Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { createGLTFLoader, loadGLB } from '../js/loaders.js';
import { ApiError, call, loadSession, setUpHeader } from './api.js';
import { changedTexts, el, textFields } from './forms.js';
import { setUpLanguage, t } from './i18n.js';
import { publicPath, routePath } from '../js/base.js';

const parts = routePath().split('/');
const exhibitionId = decodeURIComponent(parts[3] ?? '');
const objectId = decodeURIComponent(parts[5] ?? '');
const session = await loadSession();
if (!session) location.assign(publicPath('studio/sign-in'));

const FIGURE_M = 1.8;
const UP_AXES = ['+Y', '-Y', '+Z', '-Z', '+X', '-X'];
const UNIT_M = /** @type {Record<string, number>} */ ({ mm: 0.001, cm: 0.01, m: 1 });
// Rows map source (x, y, z) to the converted (x, y, z): vrculture/pipeline/transforms/normalise.py.
const UP_ROWS = /** @type {Record<string, number[]>} */ ({
  '+Y': [1, 0, 0, 0, 1, 0, 0, 0, 1],
  '-Y': [1, 0, 0, 0, -1, 0, 0, 0, -1],
  '+Z': [1, 0, 0, 0, 0, 1, 0, -1, 0],
  '-Z': [1, 0, 0, 0, 0, -1, 0, 1, 0],
  '+X': [0, -1, 0, 1, 0, 0, 0, 0, 1],
  '-X': [0, 1, 0, -1, 0, 0, 0, 0, 1],
});
const TEXTS = ['title', 'description', 'credit'];

const statusBox = /** @type {HTMLElement} */ (document.getElementById('edit-status'));
const errorBox = /** @type {HTMLElement} */ (document.getElementById('edit-error'));
const canvas = /** @type {HTMLCanvasElement} */ (document.getElementById('view'));
const turnInput = /** @type {HTMLInputElement} */ (document.getElementById('turn'));
const heightInput = /** @type {HTMLInputElement} */ (document.getElementById('height'));
const unitsInput = /** @type {HTMLSelectElement} */ (document.getElementById('units'));
const placeButton = /** @type {HTMLButtonElement} */ (document.getElementById('place'));

/** @type {any} */ let object = null; // GET …/objects/{object}
/** @type {any} */ let exhibition = null; // GET …/exhibitions/{id}: texts and missing flags
let version = '';
/** @type {any[]} */ let annotations = [];
let placing = false;

// the 3D view --------------------------------------------------------------------------------
const renderer = new WebGLRenderer({ canvas, antialias: true });
renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
const scene = new Scene();
scene.background = new Color(0xe9e9e6);
scene.add(new AmbientLight(0xffffff, 1.2));
const sun = new DirectionalLight(0xffffff, 2);
sun.position.set(2, 4, 3);
scene.add(sun);
scene.add(new GridHelper(6, 12, 0x888888, 0xbbbbbb));
const camera = new PerspectiveCamera(40, 4 / 3, 0.01, 200);
const controls = new OrbitControls(camera, canvas);
controls.enableDamping = false;
controls.listenToKeyEvents(canvas); // arrow keys pan when the view has focus
controls.addEventListener('change', draw);

const turned = new Group(); // the curator's turn about +Y (the room's facing)
const framed = new Group(); // the build's model turned to the chosen up and scaled: the converted frame
const markers = new Group();
turned.add(framed, markers);
scene.add(turned);

// A simple standing figure 1.8 m tall: a capsule body with a head.
const figure = new Group();
const skin = new MeshStandardMaterial({ color: 0x5b6f86, roughness: 0.8 });
const body = new Mesh(new CapsuleGeometry(0.2, 1.0, 6, 16), skin);
body.position.y = 0.7;
const head = new Mesh(new SphereGeometry(0.11, 16, 12), skin);
head.position.y = FIGURE_M - 0.11;
figure.add(body, head);
scene.add(figure);

const loader = createGLTFLoader(renderer);
/** @type {import('three').Object3D | null} */ let model = null;
let builtHeight = 0; // the preview's height as built, metres

function draw() {
  renderer.render(scene, camera);
}

function resize() {
  const width = canvas.clientWidth || 640;
  const height = canvas.clientHeight || 480;
  renderer.setSize(width, height, false);
  camera.aspect = width / height;
  camera.updateProjectionMatrix();
  draw();
}
new ResizeObserver(resize).observe(canvas);

/** The chosen up axis: the form's, else the one the build used. @returns {string} */
function chosenUp() {
  const checked = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="up"]:checked'));
  return checked?.value || object?.preview?.up || '+Y';
}

/** @param {string} up */
function upMatrix(up) {
  const built = object?.preview?.up ?? up;
  const rows = (/** @type {string} */ axis) => {
    const r = UP_ROWS[axis] ?? UP_ROWS['+Y'];
    return new Matrix4().set(r[0], r[1], r[2], 0, r[3], r[4], r[5], 0, r[6], r[7], r[8], 0, 0, 0, 0, 1);
  };
  // source = R_built^T · built (up to scale and offset), so new = R_new · R_built^T · built
  return rows(up).multiply(rows(built).transpose());
}

/**
 * The matrix taking the build's model to the frame the next build makes with these settings:
 * turned to `up`, scaled to `height` (or by the change of units), centred, base on y = 0.
 * @param {{ up: string, height: number, units: string }} settings
 */
function frameFor(settings) {
  const turnUp = upMatrix(settings.up);
  framed.matrixAutoUpdate = false;
  framed.matrix.copy(turnUp);
  framed.updateMatrixWorld(true);
  const box = new Box3().setFromObject(framed);
  const size = box.getSize(new Vector3());
  let scale = 1;
  if (settings.height > 0 && size.y > 0) {
    scale = settings.height / size.y;
  } else if (settings.units && object.units && settings.units !== object.units) {
    scale = UNIT_M[settings.units] / UNIT_M[object.units];
  }
  const centre = box.getCenter(new Vector3());
  return new Matrix4().makeTranslation(-centre.x * scale, -box.min.y * scale, -centre.z * scale)
    .multiply(new Matrix4().makeScale(scale, scale, scale)).multiply(turnUp);
}

/** The settings in the form, and those saved. */
function formSettings() {
  return { up: chosenUp(), height: Number(heightInput.value.replace(',', '.')) || 0, units: unitsInput.value };
}
function savedSettings() {
  return { up: object.up || object.preview?.up || '+Y', height: object.height_m ?? 0, units: object.units ?? '' };
}

/** Turn, scale and centre the model as the next build will, then place the figure beside it. */
function applyFrame() {
  if (model) {
    // Annotations are kept in the saved frame; an unsaved change of up or size shows them
    // carried by it (as saving will carry them).
    const saved = frameFor(savedSettings());
    const current = frameFor(formSettings());
    framed.matrix.copy(current);
    markers.matrixAutoUpdate = false;
    markers.matrix.copy(current.clone().multiply(saved.invert()));
    framed.updateMatrixWorld(true);
    const box = new Box3().setFromObject(framed);
    builtHeight = box.max.y - box.min.y;
  }
  turned.rotation.y = (Number(turnInput.value) * Math.PI) / 180;
  turned.updateMatrixWorld(true);
  const extent = model ? new Box3().setFromObject(turned) : new Box3(new Vector3(-0.2, 0, -0.2), new Vector3(0.2, 0.4, 0.2));
  figure.position.set(extent.min.x - 0.5, 0, 0);
  const sizeBox = /** @type {HTMLElement} */ (document.getElementById('size'));
  sizeBox.textContent = model ? t('sizeIs', { h: builtHeight.toFixed(3), ratio: (builtHeight / FIGURE_M).toFixed(2) }) : '';
  renderMarkers();
  draw();
}

/** Look at the object's centre (a click there lands on it), from far enough to see the figure. */
function frameCamera() {
  const own = model ? new Box3().setFromObject(turned) : new Box3().setFromObject(figure);
  const all = own.clone().union(new Box3().setFromObject(figure));
  const centre = own.getCenter(new Vector3());
  const span = Math.max(all.max.y - all.min.y, 2 * (centre.x - all.min.x), 0.5);
  controls.target.copy(centre);
  camera.position.set(centre.x, centre.y + span * 0.2, centre.z + span * 2.2);
  camera.near = span / 200;
  camera.far = span * 50;
  camera.updateProjectionMatrix();
  controls.update();
}

async function loadModel() {
  const note = /** @type {HTMLElement} */ (document.getElementById('preview-note'));
  if (!object.preview) {
    note.textContent = t('noPreview');
    applyFrame();
    frameCamera();
    return;
  }
  note.textContent = t('previewOf', { up: object.preview.up ?? '?' });
  const { scene: loaded } = await loadGLB(loader, publicPath(object.preview.url));
  model = loaded;
  framed.add(loaded);
  applyFrame();
  frameCamera();
  draw();
  canvas.dataset.ready = 'true'; // for tests: the model is in place
}

// placing annotations ------------------------------------------------------------------------
const raycaster = new Raycaster();

/** The hit in the converted frame: position and unit normal, or null off the model.
 * @param {Vector2} ndc */
function hitAt(ndc) {
  if (!model) return null;
  raycaster.setFromCamera(ndc, camera);
  const hit = raycaster.intersectObject(framed, true)[0];
  if (!hit || !hit.face) return null;
  const toFrame = markers.matrixWorld.clone().invert(); // the saved frame (see applyFrame)
  const position = hit.point.clone().applyMatrix4(toFrame);
  const normal = hit.face.normal.clone().transformDirection(hit.object.matrixWorld).transformDirection(toFrame);
  if (normal.dot(raycaster.ray.direction.clone().transformDirection(toFrame)) > 0) normal.negate(); // facing the viewer
  return { position, normal };
}

/** @param {Vector2} ndc */
function placeAt(ndc) {
  const found = hitAt(ndc);
  if (!found) {
    statusBox.textContent = t('missedModel');
    return;
  }
  let n = annotations.length + 1;
  while (annotations.some((a) => a.id === `note-${n}`)) n += 1;
  const round = (/** @type {number} */ v) => Math.round(v * 1e5) / 1e5;
  annotations.push({
    id: `note-${n}`,
    position: found.position.toArray().map(round),
    normal: found.normal.normalize().toArray().map(round),
    title: {}, text: {},
  });
  setPlacing(false);
  renderAnnotations();
  renderMarkers();
  draw();
  const first = document.getElementById(`note-${n}-title-${object.languages[0]}`);
  first?.focus();
  statusBox.textContent = t('placed', { id: `note-${n}` });
}

/** @param {boolean} on */
function setPlacing(on) {
  placing = on;
  placeButton.setAttribute('aria-pressed', String(on));
  canvas.classList.toggle('placing', on);
  if (on) canvas.focus();
}

placeButton.addEventListener('click', () => setPlacing(!placing));
let downAt = new Vector2();
canvas.addEventListener('pointerdown', (event) => { downAt = new Vector2(event.clientX, event.clientY); });
canvas.addEventListener('pointerup', (event) => {
  if (!placing || downAt.distanceTo(new Vector2(event.clientX, event.clientY)) > 4) return; // a drag orbits
  const rect = canvas.getBoundingClientRect();
  placeAt(new Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1));
});
canvas.addEventListener('keydown', (event) => {
  if (placing && event.key === 'Enter') { // the keyboard's way: the point at the view's centre
    event.preventDefault();
    placeAt(new Vector2(0, 0));
  } else if (placing && event.key === 'Escape') {
    setPlacing(false);
  }
});

function renderMarkers() {
  markers.clear();
  const box = model ? new Box3().setFromObject(framed) : null;
  const radius = box ? Math.max(0.004, (box.max.y - box.min.y) / 80) : 0.01;
  const material = new MeshStandardMaterial({ color: 0xe37400, emissive: 0x552200 });
  for (const a of annotations) {
    const dot = new Mesh(new SphereGeometry(radius, 12, 8), material);
    dot.position.fromArray(a.position);
    markers.add(dot);
  }
}

function renderAnnotations() {
  const list = /** @type {HTMLElement} */ (document.getElementById('annotation-list'));
  list.replaceChildren();
  if (!annotations.length) list.append(el('li', {}, t('noAnnotations')));
  for (const a of annotations) {
    const item = el('li');
    const set = el('fieldset');
    set.append(el('legend', {}, t('annotationHeading', { id: a.id })));
    const where = a.position.map((/** @type {number} */ v) => v.toFixed(3)).join(', ');
    set.append(el('p', { class: 'status' }, t('annotationAt', { where })));
    for (const field of ['title', 'text']) {
      const present = object.languages.filter((/** @type {string} */ l) => a[field][l]);
      const missing = present.length || field === 'title' ? object.languages.filter((/** @type {string} */ l) => !a[field][l]) : [];
      for (const lang of object.languages) {
        const inputId = `${a.id}-${field}-${lang}`;
        const p = el('p');
        const label = el('label', { for: inputId }, `${t(field === 'title' ? 'title' : 'annotationText')} (${lang})`);
        if (missing.includes(lang)) label.append(el('span', { class: 'missing', id: `${inputId}-missing` }, t('missing')));
        const input = field === 'title'
          ? el('input', { id: inputId, lang, maxlength: '200' })
          : el('textarea', { id: inputId, lang, maxlength: '4000' });
        input.value = a[field][lang] ?? '';
        if (missing.includes(lang)) input.setAttribute('aria-describedby', `${inputId}-missing`);
        input.addEventListener('input', () => {
          if (input.value.trim()) a[field][lang] = input.value.trim();
          else delete a[field][lang];
        });
        p.append(label, input);
        set.append(p);
      }
    }
    const remove = el('button', { type: 'button' }, t('deleteAnnotation', { id: a.id }));
    remove.addEventListener('click', () => {
      annotations = annotations.filter((b) => b !== a);
      renderAnnotations();
      renderMarkers();
      draw();
      placeButton.focus();
    });
    const actions = el('p');
    actions.append(remove);
    set.append(actions);
    item.append(set);
    list.append(item);
  }
}

// forms --------------------------------------------------------------------------------------
function renderGeometry() {
  const box = /** @type {HTMLElement} */ (document.getElementById('up-axes'));
  box.replaceChildren();
  const options = [['', t('upAuto', { up: object.preview?.up ?? '?' })], ...UP_AXES.map((a) => [a, a])];
  for (const [value, label] of options) {
    const input = el('input', { type: 'radio', name: 'up', value, id: `up-${value || 'auto'}` });
    input.checked = (object.up ?? '') === value;
    input.addEventListener('change', applyFrame);
    const wrap = el('label', { for: input.id });
    wrap.append(input, document.createTextNode(label));
    box.append(wrap);
  }
  turnInput.value = String(object.turn ?? 0);
  /** @type {HTMLOutputElement} */ (document.getElementById('turn-value')).value = `${turnInput.value}°`;
  heightInput.value = object.height_m == null ? '' : String(object.height_m);
  unitsInput.value = object.units ?? '';
}

/** @param {string} id */
const presentationInput = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

function renderPresentation() {
  const p = object.presentation ?? {};
  /** @type {HTMLSelectElement} */ (document.getElementById('mount')).value = p.mount ?? '';
  presentationInput('plinth-height').value = p.plinth_height == null ? '' : String(p.plinth_height);
  presentationInput('wall-height').value = p.wall_height == null ? '' : String(p.wall_height);
  presentationInput('light').value = p.light == null ? '' : String(p.light);
}

/** A number field's value, or null when empty (a decimal comma is read as a point). @param {string} id */
function optionalNumber(id) {
  const text = presentationInput(id).value.trim();
  return text ? Number(text.replace(',', '.')) : null;
}

document.getElementById('presentation-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  save('PATCH', `exhibitions/${exhibitionId}/objects/${objectId}/presentation`, {
    mount: /** @type {HTMLSelectElement} */ (document.getElementById('mount')).value || null,
    plinth_height: optionalNumber('plinth-height'),
    wall_height: optionalNumber('wall-height'),
    light: optionalNumber('light'),
  });
});

turnInput.addEventListener('input', () => {
  /** @type {HTMLOutputElement} */ (document.getElementById('turn-value')).value = `${turnInput.value}°`;
  turnInput.setAttribute('aria-valuetext', `${turnInput.value}°`);
  applyFrame();
});
heightInput.addEventListener('input', applyFrame);
unitsInput.addEventListener('change', applyFrame);

function renderTexts() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('texts-form'));
  form.replaceChildren();
  const entry = exhibition.objects.find((/** @type {any} */ o) => o.id === objectId) ?? {};
  for (const field of TEXTS) {
    const flag = exhibition.missing_translations.find(
      (/** @type {any} */ m) => m.where === `objects/${objectId}` && m.field === field);
    textFields(form, 'obj', field, exhibition.languages, entry[field] ?? {}, flag ? flag.languages : []);
  }
  for (const field of ['creator', 'date', 'rights']) {
    const inputId = `obj-${field}`;
    const p = el('p');
    const input = el('input', { id: inputId, maxlength: field === 'date' ? '100' : '200' });
    input.value = entry[field] ?? '';
    p.append(el('label', { for: inputId }, t(field)), input);
    form.append(p);
  }
  const actions = el('p');
  actions.append(el('button', { type: 'submit' }, t('saveTexts')));
  form.append(actions);
}

function render() {
  setUpHeader(t('signedInAs', { name: session?.curator ?? '' }));
  if (!object || !exhibition) return;
  const lang = document.documentElement.lang;
  const entry = exhibition.objects.find((/** @type {any} */ o) => o.id === objectId) ?? {};
  const title = entry.title?.[lang] ?? entry.title?.[exhibition.default_language] ?? objectId;
  /** @type {HTMLElement} */ (document.getElementById('object-heading')).textContent = title;
  document.title = `${title}: vrculture studio`;
  canvas.setAttribute('aria-label', t('viewLabel', { title }));
  /** @type {HTMLAnchorElement} */ (document.getElementById('back')).href = publicPath(`studio/exhibitions/${encodeURIComponent(exhibitionId)}`);
  renderGeometry();
  renderPresentation();
  renderTexts();
  renderAnnotations();
  applyFrame();
}

/** @param {boolean} [keepAnnotations] keep the annotations being edited here */
async function load(keepAnnotations = false) {
  const [one, all] = await Promise.all([
    call('GET', `exhibitions/${exhibitionId}/objects/${objectId}`),
    call('GET', `exhibitions/${exhibitionId}`),
  ]);
  object = one.data;
  exhibition = all.data;
  version = one.etag ?? '';
  if (!keepAnnotations) annotations = structuredClone(object.annotations);
  render();
}

/** Send one change with the version read; on a conflict say who and reload.
 * @param {string} method @param {string} path @param {any} body */
async function save(method, path, body) {
  statusBox.textContent = '';
  errorBox.textContent = '';
  try {
    const { etag } = await call(method, path, { body, ifMatch: version });
    version = etag ?? version;
    await load(!path.endsWith('/annotations'));
    statusBox.textContent = t('saved');
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      errorBox.textContent = t('conflict', { message: e.message });
      await load(!path.endsWith('/annotations'));
    } else {
      errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
    }
    return false;
  }
}

document.getElementById('geometry-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const height = heightInput.value.trim();
  // Annotations sit in the converted frame: a new up axis or size moves that frame, so they
  // move with it (and are saved again) to stay on the same spot of the surface.
  const same = JSON.stringify(formSettings()) === JSON.stringify(savedSettings());
  const moved = model && !same
    ? moveAnnotations(frameFor(formSettings()).multiply(frameFor(savedSettings()).invert())) : null;
  const done = await save('PATCH', `exhibitions/${exhibitionId}/objects/${objectId}/geometry`, {
    up: /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="up"]:checked'))?.value || null,
    turn: Number(turnInput.value),
    height_m: height ? Number(height.replace(',', '.')) : null,
    units: unitsInput.value || null,
  });
  if (done && moved) {
    annotations = moved;
    if (await save('PUT', `exhibitions/${exhibitionId}/objects/${objectId}/annotations`, { annotations })) {
      statusBox.textContent = t('annotationsMoved');
    }
  }
});

/** The annotations carried by `change`, or null when it moves nothing. @param {Matrix4} change */
function moveAnnotations(change) {
  if (!annotations.length) return null;
  const round = (/** @type {number} */ v) => Math.round(v * 1e5) / 1e5;
  return annotations.map((a) => ({
    ...a,
    position: new Vector3().fromArray(a.position).applyMatrix4(change).toArray().map(round),
    normal: new Vector3().fromArray(a.normal).transformDirection(change).toArray().map(round),
  }));
}

document.getElementById('annotations-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  void save('PUT', `exhibitions/${exhibitionId}/objects/${objectId}/annotations`, { annotations });
});

document.getElementById('texts-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  const entry = exhibition.objects.find((/** @type {any} */ o) => o.id === objectId) ?? {};
  /** @type {Record<string, any>} */
  const body = {};
  for (const field of TEXTS) {
    const changed = changedTexts('obj', field, exhibition.languages, entry[field] ?? {});
    if (changed) body[field] = changed;
  }
  for (const field of ['creator', 'date', 'rights']) {
    const value = /** @type {HTMLInputElement} */ (document.getElementById(`obj-${field}`)).value.trim();
    if (value !== (entry[field] ?? '')) body[field] = value || null;
  }
  if (Object.keys(body).length) void save('PATCH', `exhibitions/${exhibitionId}/objects/${objectId}`, body);
});

setUpLanguage(render);
try {
  await load();
  await loadModel();
} catch (e) {
  errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
}
