// @ts-check
// The sign-in page: name and password in, a session cookie out, then on to the studio.
import { ApiError, call } from './api.js';
import { setUpLanguage, t } from './i18n.js';
import { publicPath } from '../js/base.js';

setUpLanguage();
const form = /** @type {HTMLFormElement} */ (document.getElementById('sign-in'));
const error = /** @type {HTMLElement} */ (document.getElementById('sign-in-error'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const name = /** @type {HTMLInputElement} */ (document.getElementById('name')).value.trim();
  const password = /** @type {HTMLInputElement} */ (document.getElementById('password')).value;
  try {
    await call('POST', 'session', { body: { name, password } });
    location.assign(publicPath('studio/'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 429) {
      error.textContent = t('tooMany', { s: String(e.body?.message?.match(/\d+/)?.[0] ?? '') });
    } else if (e instanceof ApiError && e.status === 401) {
      error.textContent = t('wrongCredentials');
    } else {
      error.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
    }
  }
});
