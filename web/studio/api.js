// @ts-check
// Calls to /studio/api/: JSON in and out; every change carries the session's CSRF token (the
// browser adds the Origin header itself).
import { publicPath, routePath } from '../js/base.js';

export class ApiError extends Error {
  /** @param {number} status @param {any} body */
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let csrfToken = '';
// While the printed one-time password is in use the server refuses everything but the
// session's own routes with this code; its replacement form is on the studio's home page.
const PASSWORD_CHANGE_REQUIRED = 'password_change_required';
const PASSWORD_FORM = '/studio/';

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: any, ifMatch?: string }} [options]
 * @returns {Promise<{ data: any, etag: string | null }>}
 */
export async function call(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  const response = await fetch(publicPath(`studio/api/${path}`), {
    method, headers, credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== 'session') {
    location.assign(publicPath('studio/sign-in'));
  } else if (response.status === 403 && data?.code === PASSWORD_CHANGE_REQUIRED
             && routePath() !== PASSWORD_FORM) {
    location.assign(publicPath(PASSWORD_FORM));  // the one-time password opens nothing else
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, etag: response.headers.get('ETag') };
}

/** The signed-in curator (and remember the CSRF token), or null. A curator still on their
 * one-time password is sent to the password form first.
 * @returns {Promise<{ curator: string, must_change_password: boolean, csrf_token: string } | null>}
 */
export async function loadSession() {
  try {
    const { data } = await call('GET', 'session');
    csrfToken = data.csrf_token;
    if (data.must_change_password && routePath() !== PASSWORD_FORM) location.assign(publicPath(PASSWORD_FORM));
    return data;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** @param {string} token */
export function useCsrfToken(token) {
  csrfToken = token;
}

/** The header's "signed in as" and sign-out button. @param {string} label */
export function setUpHeader(label) {
  const who = document.getElementById('who');
  if (who) who.textContent = label;
  document.getElementById('sign-out')?.addEventListener('click', async () => {
    await call('DELETE', 'session').catch(() => {});
    location.assign(publicPath('studio/sign-in'));
  });
}
