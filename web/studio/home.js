// @ts-check
// The studio's home: the curator's exhibitions and a form to create one; while the one-time
// password is still in use, only the form that replaces it (the server refuses the rest).
import { ApiError, call, loadSession, setUpHeader, useCsrfToken } from './api.js';
import { el, textFields } from './forms.js';
import { setUpLanguage, t } from './i18n.js';
import { publicPath } from '../js/base.js';

const session = await loadSession();
if (!session) location.assign(publicPath('studio/sign-in'));

const mustChange = Boolean(session?.must_change_password);
function render() {
  setUpHeader(t('signedInAs', { name: session?.curator ?? '' }));
  renderTextInputs();
  if (!mustChange) void renderList();
}
setUpLanguage(render);

const list = /** @type {HTMLUListElement} */ (document.getElementById('exhibition-list'));
async function renderList() {
  const { data } = await call('GET', 'exhibitions');
  list.replaceChildren();
  if (!data.exhibitions.length) list.append(el('li', {}, t('noExhibitions')));
  for (const item of data.exhibitions) {
    const title = item.title?.[document.documentElement.lang] ?? Object.values(item.title ?? {})[0] ?? '';
    const link = el('a', { href: publicPath(`studio/exhibitions/${item.id}`) }, title ? `${title} (${item.id})` : item.id);
    const li = el('li');
    li.append(link);
    list.append(li);
  }
}

const languagesInput = /** @type {HTMLInputElement} */ (document.getElementById('new-languages'));
const textsBox = /** @type {HTMLElement} */ (document.getElementById('new-texts'));
function languages() {
  return languagesInput.value.split(/[\s,]+/).filter(Boolean);
}
function renderTextInputs() {
  const kept = Object.fromEntries([...textsBox.querySelectorAll('input, textarea')].map(
    (input) => [input.id, /** @type {HTMLInputElement} */ (input).value]));
  textsBox.replaceChildren();
  for (const field of ['title', 'description', 'credit']) {
    textFields(textsBox, 'new', field, languages(), {});
  }
  for (const [id, value] of Object.entries(kept)) {
    const input = /** @type {HTMLInputElement | null} */ (document.getElementById(id));
    if (input) input.value = value;
  }
}
languagesInput.addEventListener('change', renderTextInputs);

const createStatus = /** @type {HTMLElement} */ (document.getElementById('create-status'));
document.getElementById('create-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = /** @type {HTMLInputElement} */ (document.getElementById('new-id')).value.trim();
  /** @type {Record<string, any>} */
  const body = { id, languages: languages() };
  for (const field of ['title', 'description', 'credit']) {
    /** @type {Record<string, string>} */
    const texts = {};
    for (const lang of languages()) {
      const input = /** @type {HTMLInputElement | null} */ (document.getElementById(`new-${field}-${lang}`));
      if (input?.value.trim()) texts[lang] = input.value.trim();
    }
    if (Object.keys(texts).length) body[field] = texts;
  }
  try {
    await call('POST', 'exhibitions', { body });
    createStatus.textContent = t('created');
    location.assign(publicPath(`studio/exhibitions/${id}`));
  } catch (e) {
    createStatus.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
  }
});

const passwordSection = /** @type {HTMLElement} */ (document.getElementById('password-section'));
passwordSection.hidden = !mustChange;
for (const id of ['list-section', 'create-section']) {
  const section = document.getElementById(id);
  if (section) section.hidden = mustChange;
}
if (mustChange) document.getElementById('current-password')?.focus();
const passwordStatus = /** @type {HTMLElement} */ (document.getElementById('password-status'));
document.getElementById('password-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const current = /** @type {HTMLInputElement} */ (document.getElementById('current-password')).value;
  const fresh = /** @type {HTMLInputElement} */ (document.getElementById('new-password')).value;
  try {
    const { data } = await call('POST', 'session/password', { body: { current, new: fresh } });
    useCsrfToken(data.csrf_token);
    passwordStatus.textContent = t('passwordSaved');
    location.assign(publicPath('studio/'));  // the whole studio, in the new session
  } catch (e) {
    const message = e instanceof ApiError ? e.message : String(e);
    passwordStatus.textContent = t('error', { message });
  }
});

render();
