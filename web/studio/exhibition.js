// @ts-check
// One studio exhibition: its texts and its objects' metadata in every language (missing
// translations flagged), its members and its audit log. Saving sends the version read
// (If-Match); a conflict is shown with who changed it, and the form is reloaded.
import { ApiError, call, loadSession, setUpHeader } from './api.js';
import { changedTexts, el, textFields } from './forms.js';
import { setUpLanguage, t } from './i18n.js';
import { mountUploads } from './upload.js';
import { publicPath } from '../js/base.js';

const id = decodeURIComponent(location.pathname.split('/').pop() ?? '');
document.getElementById('plan-link')?.setAttribute('href', publicPath(`studio/exhibitions/${encodeURIComponent(id)}/plan`));
const session = await loadSession();
if (!session) location.assign(publicPath('studio/sign-in'));

/** @type {any} */
let exhibition = null;
let version = '';
const statusBox = /** @type {HTMLElement} */ (document.getElementById('edit-status'));
const errorBox = /** @type {HTMLElement} */ (document.getElementById('edit-error'));
const TEXTS = ['title', 'description', 'credit'];

/** @param {string} where @param {string} field @returns {string[]} */
function missingOf(where, field) {
  const flag = exhibition.missing_translations.find(
    (/** @type {any} */ m) => m.where === where && m.field === field);
  return flag ? flag.languages : [];
}

// The tours and smart-exhibit modules edit the same collection.toml: their saves move it on.
document.addEventListener('studio:version', (event) => {
  version = /** @type {CustomEvent<string>} */ (event).detail;
  if (exhibition) void renderAudit();
});

async function load() {
  const { data, etag } = await call('GET', `exhibitions/${id}`);
  exhibition = data;
  version = etag ?? data.version;
  render();
}

function render() {
  setUpHeader(t('signedInAs', { name: session?.curator ?? '' }));
  if (!exhibition) return;
  const lang = document.documentElement.lang;
  const title = exhibition.title[lang] ?? exhibition.title[exhibition.default_language] ?? id;
  /** @type {HTMLElement} */ (document.getElementById('exhibition-heading')).textContent = title;
  document.title = `${title}: vrculture studio`;
  renderExhibitionForm();
  renderObjects();
  renderMembers();
  void renderAudit();
  void renderVersions();
}

function renderExhibitionForm() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('exhibition-form'));
  form.replaceChildren();
  for (const field of TEXTS) {
    textFields(form, 'ex', field, exhibition.languages, exhibition[field], missingOf('exhibition', field));
  }
  const actions = el('p');
  actions.append(el('button', { type: 'submit' }, t('save')));
  form.append(actions);
}

/** @param {Record<string, any>} body @param {string} path */
async function save(body, path) {
  statusBox.textContent = '';
  errorBox.textContent = '';
  if (!Object.keys(body).length) return;
  try {
    const { data, etag } = await call('PATCH', path, { body, ifMatch: version });
    exhibition = { ...data, members: exhibition.members };
    version = etag ?? data.version;
    document.dispatchEvent(new CustomEvent('studio:version', { detail: version }));
    render();
    statusBox.textContent = t('saved');
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      errorBox.textContent = t('conflict', { message: e.message });
      await load();
    } else {
      errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
    }
  }
}

document.getElementById('exhibition-form')?.addEventListener('submit', (event) => {
  event.preventDefault();
  /** @type {Record<string, any>} */
  const body = {};
  for (const field of TEXTS) {
    const changed = changedTexts('ex', field, exhibition.languages, exhibition[field]);
    if (changed) body[field] = changed;
  }
  void save(body, `exhibitions/${id}`);
});

function renderObjects() {
  const box = /** @type {HTMLElement} */ (document.getElementById('object-forms'));
  box.replaceChildren();
  if (!exhibition.objects.length) box.append(el('p', {}, t('noObjects')));
  for (const object of exhibition.objects) {
    const prefix = `obj-${object.id}`;
    const form = el('form', { 'aria-label': t('objectHeading', { id: object.id }) });
    form.noValidate = true;
    const set = el('fieldset');
    set.append(el('legend', {}, t('objectHeading', { id: object.id })));
    const link = el('a', { href: publicPath(`studio/exhibitions/${encodeURIComponent(id)}/objects/${encodeURIComponent(object.id)}`) },
      t('editObject', { id: object.id }));
    const linkLine = el('p');
    linkLine.append(link);
    set.append(linkLine);
    for (const field of TEXTS) {
      textFields(set, prefix, field, exhibition.languages, object[field], missingOf(`objects/${object.id}`, field));
    }
    for (const field of ['creator', 'date', 'rights']) {
      const inputId = `${prefix}-${field}`;
      const p = el('p');
      const input = el('input', { id: inputId, maxlength: field === 'date' ? '100' : '200' });
      input.value = object[field] ?? '';
      p.append(el('label', { for: inputId }, t(field)), input);
      set.append(p);
    }
    const actions = el('p');
    actions.append(el('button', { type: 'submit' }, t('save')));
    set.append(actions);
    form.append(set);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      /** @type {Record<string, any>} */
      const body = {};
      for (const field of TEXTS) {
        const changed = changedTexts(prefix, field, exhibition.languages, object[field]);
        if (changed) body[field] = changed;
      }
      for (const field of ['creator', 'date', 'rights']) {
        const value = /** @type {HTMLInputElement} */ (document.getElementById(`${prefix}-${field}`)).value.trim();
        if (value !== (object[field] ?? '')) body[field] = value || null;
      }
      void save(body, `exhibitions/${id}/objects/${object.id}`);
    });
    box.append(form);
  }
}

function renderMembers() {
  const list = /** @type {HTMLElement} */ (document.getElementById('member-list'));
  list.replaceChildren(...(exhibition.members ?? []).map((/** @type {string} */ m) => el('li', {}, m)));
}

document.getElementById('member-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (document.getElementById('member-name'));
  try {
    const { data } = await call('POST', `exhibitions/${id}/members`, { body: { curator: input.value.trim() } });
    exhibition.members = data.members;
    input.value = '';
    renderMembers();
    void renderAudit();
  } catch (e) {
    errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
  }
});

async function renderAudit() {
  const { data } = await call('GET', `audit?exhibition=${encodeURIComponent(id)}`);
  const body = /** @type {HTMLElement} */ (document.querySelector('#audit-table tbody'));
  const format = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' });
  body.replaceChildren(...data.entries.map((/** @type {any} */ entry) => {
    const row = el('tr');
    const detail = entry.detail ?? {};
    const what = t(`action.${entry.action}`, {
      object: String(detail.object ?? ''), curator: String(detail.curator ?? ''),
      version: String(detail.version ?? '').slice(0, 8),
      tour: String(detail.tour ?? ''), smart: String(detail.smart_exhibit ?? ''), id: String(detail.id ?? ''),
    });
    row.append(el('td', {}, format.format(new Date(entry.at * 1000))), el('td', {}, entry.curator),
      el('td', {}, what));
    return row;
  }));
}

const publishStatus = /** @type {HTMLElement} */ (document.getElementById('publish-status'));
const publishButton = /** @type {HTMLButtonElement} */ (document.getElementById('publish'));

async function renderVersions() {
  const { data } = await call('GET', `exhibitions/${id}/publications`);
  const body = /** @type {HTMLElement} */ (document.querySelector('#versions-table tbody'));
  const format = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'medium' });
  body.replaceChildren(...data.versions.map((/** @type {any} */ v) => {
    const row = el('tr');
    const action = el('td');
    if (v.current) {
      action.textContent = t('current');
    } else {
      const button = el('button', { type: 'button' }, t('rollBack', { version: v.version.slice(0, 8) }));
      button.addEventListener('click', () => void rollBack(v.version));
      action.append(button);
    }
    row.append(el('td', {}, v.version.slice(0, 8)), el('td', {}, v.by ?? ''),
      el('td', {}, v.at ? format.format(new Date(v.at * 1000)) : ''), action);
    return row;
  }));
}

publishButton.addEventListener('click', async () => {
  publishButton.disabled = true;
  publishStatus.textContent = t('publishingNow');
  try {
    const { data } = await call('POST', `exhibitions/${id}/publish`);
    publishStatus.textContent = t('published', { version: data.version.slice(0, 8) });
  } catch (e) {
    publishStatus.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
  } finally {
    publishButton.disabled = false;
    void renderVersions();
    void renderAudit();
  }
});

/** @param {string} version */
async function rollBack(version) {
  try {
    const { data } = await call('POST', `exhibitions/${id}/rollback`, { body: { version } });
    publishStatus.textContent = t('rolledBack', { version: data.version.slice(0, 8) });
  } catch (e) {
    publishStatus.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
  }
  void renderVersions();
  void renderAudit();
}

setUpLanguage(render);
if (session) {
  // drop files here: resumable uploads, then the conversion queue's progress per object
  mountUploads(/** @type {HTMLElement} */ (document.getElementById('uploads')),
    { exhibitionId: id, csrfToken: session.csrf_token });
}
try {
  await load();
} catch (e) {
  errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
}
