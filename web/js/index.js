// @ts-check
// The exhibition list (/): one card per published exhibition, in the browser's language.
import { pick } from './i18n.js';
import { publicPath } from './base.js';

const lang = (navigator.language || 'en').toLowerCase().startsWith('sv') ? 'sv' : 'en';
document.documentElement.lang = lang;
// index.html has both; the page is nothing without them
const status = /** @type {HTMLElement} */ (document.querySelector('#index-status'));
const list = /** @type {HTMLElement} */ (document.querySelector('#exhibitions'));

/** @param {{id: string, url?: unknown, thumbnail?: unknown, title?: import('./i18n.js').Text, description?: import('./i18n.js').Text}} x */
function card(x) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  // the API's URLs are the server's routes: under the base path on the visitor's side
  a.href = publicPath(typeof x.url === 'string' && x.url.startsWith('/') ? x.url : `exhibitions/${encodeURIComponent(x.id)}`);
  if (x.thumbnail && typeof x.thumbnail === 'string' && x.thumbnail.startsWith('/')) {
    const img = document.createElement('img');
    img.src = publicPath(x.thumbnail);
    img.alt = '';
    a.append(img);
  }
  const h = document.createElement('h2');
  h.textContent = pick(x.title, lang) || x.id;
  a.append(h);
  const p = document.createElement('p');
  p.textContent = pick(x.description, lang);
  li.append(a, p);
  return li;
}

fetch(publicPath('api/exhibitions'))
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then((items) => {
    const arr = Array.isArray(items) ? items : items.exhibitions || [];
    list.replaceChildren(...arr.map(card));
    status.textContent = arr.length ? '' : (lang === 'sv' ? 'Inga utställningar ännu.' : 'No exhibitions yet.');
  })
  .catch((err) => { status.textContent = `${lang === 'sv' ? 'Kunde inte hämta utställningarna' : 'Could not load the exhibitions'}: ${err.message}`; });
