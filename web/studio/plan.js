// @ts-check
// The studio's rooms: the floor plan editor (floorplan.js) on the exhibition's model, saved
// into collection.toml a moment after each change (or with Save), with the version read
// (If-Match; a conflict is shown with who changed it), and a private preview of the result in
// the real viewer, built on demand and opened in a new tab.
import { ApiError, call, loadSession, setUpHeader } from './api.js';
import { mountFloorPlan } from './floorplan.js';
import { currentLang, setUpLanguage, t } from './i18n.js';
import { publicPath, routePath } from '../js/base.js';

const SAVE_AFTER_MS = 800; // a burst of arrow-key moves is one save

/** @type {Record<string, Record<string, string>>} */
const WORDS = {
  en: {
    heading: 'Arrange the rooms', back: 'Back to the exhibition',
    intro: 'Changes are saved a moment after you make them. The preview shows the saved plan ' +
      'in the real viewer; visitors cannot see it.',
    save: 'Save now', saving: 'Saving…', saved: 'Saved.', unsaved: 'Changes not saved yet.',
    preview: 'Build the preview', building: 'Building the preview…',
    built: 'The preview is ready.', open: 'Open the preview (new tab)', loading: 'Building the plan…',
    reload: 'Reload the plan', conflict: 'Not saved: ',
  },
  sv: {
    heading: 'Ordna salarna', back: 'Tillbaka till utställningen',
    intro: 'Ändringar sparas strax efter att du gjort dem. Förhandsvisningen visar den sparade ' +
      'planen i den riktiga visaren; besökare kan inte se den.',
    save: 'Spara nu', saving: 'Sparar…', saved: 'Sparat.', unsaved: 'Ändringar inte sparade än.',
    preview: 'Bygg förhandsvisning', building: 'Bygger förhandsvisningen…',
    built: 'Förhandsvisningen är klar.', open: 'Öppna förhandsvisningen (ny flik)',
    loading: 'Bygger planen…', reload: 'Ladda om planen', conflict: 'Inte sparat: ',
  },
};
/** @param {string} key */
const w = (key) => (WORDS[currentLang()] ?? WORDS.en)[key] ?? WORDS.en[key];

const parts = routePath().split('/');
const id = decodeURIComponent(parts[parts.length - 2] ?? '');
const session = await loadSession();
if (!session) location.assign(publicPath('studio/sign-in'));

const byId = (/** @type {string} */ name) => /** @type {HTMLElement} */ (document.getElementById(name));
const statusBox = byId('plan-status');
const errorBox = byId('plan-error');
const saveButton = /** @type {HTMLButtonElement} */ (byId('save-plan'));
const previewButton = /** @type {HTMLButtonElement} */ (byId('build-preview'));
const openLink = /** @type {HTMLAnchorElement} */ (byId('open-preview'));
const planBox = byId('plan');

/** @type {any} the model as last read or changed */
let model = null;
let version = '';
let dirty = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
/** @type {Promise<void>} the save in flight (saves never overlap: each needs the last ETag) */
let saving = Promise.resolve();
/** @type {{ destroy: () => void } | null} */
let plan = null;

function texts() {
  setUpHeader(t('signedInAs', { name: session?.curator ?? '' }));
  byId('plan-heading').textContent = w('heading');
  byId('plan-intro').textContent = w('intro');
  const back = /** @type {HTMLAnchorElement} */ (byId('back'));
  back.textContent = w('back');
  back.href = publicPath(`studio/exhibitions/${encodeURIComponent(id)}`);
  saveButton.textContent = w('save');
  previewButton.textContent = w('preview');
  openLink.textContent = w('open');
  document.title = `${w('heading')}: vrculture studio`;
}

function mount() {
  plan?.destroy();
  plan = model ? mountFloorPlan(planBox, {
    layout: model, language: currentLang(),
    onChange: (changed) => {
      model = changed;
      dirty = true;
      statusBox.textContent = w('unsaved');
      clearTimeout(timer);
      timer = setTimeout(() => void save(), SAVE_AFTER_MS);
    },
  }) : null;
}

async function load() {
  statusBox.textContent = w('loading');
  errorBox.textContent = '';
  try {
    const { data, etag } = await call('GET', `exhibitions/${id}/floorplan`);
    model = data;
    version = etag ?? '';
    dirty = false;
    statusBox.textContent = '';
    mount();
  } catch (error) {
    statusBox.textContent = '';
    errorBox.textContent = error instanceof Error ? error.message : String(error);
  }
}

/** Save the model if it changed since the last save; resolves when it is written. */
function save() {
  clearTimeout(timer);
  saving = saving.then(async () => {
    if (!dirty || !model) return;
    dirty = false;
    statusBox.textContent = w('saving');
    errorBox.textContent = '';
    try {
      const { etag } = await call('PUT', `exhibitions/${id}/floorplan`, { body: model, ifMatch: version });
      version = etag ?? version;
      statusBox.textContent = w('saved');
    } catch (error) {
      dirty = true;
      statusBox.textContent = '';
      showError(error);
    }
  });
  return saving;
}

/** @param {unknown} error */
function showError(error) {
  const message = error instanceof Error ? error.message : String(error);
  errorBox.replaceChildren(error instanceof ApiError && error.status === 409 ? w('conflict') + message : message);
  if (error instanceof ApiError && error.status === 409) {
    const reload = document.createElement('button');
    reload.type = 'button';
    reload.textContent = w('reload');
    reload.addEventListener('click', () => void load());
    errorBox.append(' ', reload);
  }
}

saveButton.addEventListener('click', () => {
  dirty = dirty || model !== null;
  void save();
});

previewButton.addEventListener('click', async () => {
  await save();
  if (dirty) return; // not saved: the preview would not show it
  previewButton.disabled = true;
  openLink.hidden = true;
  statusBox.textContent = w('building');
  errorBox.textContent = '';
  try {
    const { data } = await call('POST', `exhibitions/${id}/preview`);
    openLink.href = publicPath(data.url);
    openLink.hidden = false;
    statusBox.textContent = w('built');
    openLink.focus();
  } catch (error) {
    statusBox.textContent = '';
    showError(error);
  } finally {
    previewButton.disabled = false;
  }
});

addEventListener('beforeunload', (event) => {
  if (dirty) event.preventDefault();
});

setUpLanguage(() => { texts(); mount(); });
texts();
await load();
