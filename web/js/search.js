// @ts-check
// The search box above the object list: asks the server's /api/search (which finds parts of
// Swedish compounds: "kanin" finds "Stanfordkaninen") and lists the hits; choosing a hit selects
// its object as the list does. Keyboard: type, ↓ into the hits, ↑/↓ between them, Esc clears.
import { t } from './i18n.js';
import { publicPath } from './base.js';

const DEBOUNCE_MS = 250;
const LIMIT = 20;

/**
 * @typedef {{object: string, title: string, snippet: string}} SearchHit one result of /api/search
 */

/**
 * The hits of one query, in the visitor's language first; if there are none in it (a collection
 * written only in Swedish, an English visitor) then in any language.
 * @param {string} exhibition
 * @param {string} query
 * @param {string} lang
 * @param {AbortSignal} signal
 * @returns {Promise<SearchHit[]>}
 */
export async function fetchHits(exhibition, query, lang, signal) {
  /** @param {Record<string, string>} extra */
  const ask = async (extra) => {
    const params = new URLSearchParams({ exhibition, q: query, limit: String(LIMIT), ...extra });
    const res = await fetch(publicPath(`api/search?${params}`), { signal, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`search failed (HTTP ${res.status})`);
    const body = await res.json();
    return Array.isArray(body?.results) ? /** @type {SearchHit[]} */ (body.results) : [];
  };
  const hits = await ask({ lang });
  return hits.length ? hits : ask({});
}

export class ObjectSearch {
  /**
   * @param {import('./main.js').App} app
   * @param {(id: string, button: HTMLElement) => void} choose selects an object, as the list does
   */
  constructor(app, choose) {
    this.app = app;
    this.choose = choose;
    this.form = /** @type {HTMLFormElement | null} */ (document.querySelector('#object-search'));
    this.input = /** @type {HTMLInputElement | null} */ (document.querySelector('#search-input'));
    this.results = /** @type {HTMLElement | null} */ (document.querySelector('#search-results'));
    this.count = /** @type {HTMLElement | null} */ (document.querySelector('#search-count'));
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    /** @type {AbortController | null} */
    this.pending = null;
    /** @type {SearchHit[] | null} the hits shown (null: no search yet or the box is empty) */
    this.hits = null;
    if (!this.form || !this.input || !this.results || !this.count) return;
    this.form.hidden = app.mode === 'turntable';
    this.input.addEventListener('input', () => this.schedule());
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.run();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        this.focusHit(0);
      } else if (e.key === 'Escape' && this.input?.value) {
        e.stopPropagation();
        this.clear();
      }
    });
    this.results.addEventListener('keydown', (e) => {
      const buttons = this.buttons();
      const i = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      if (i < 0) return;
      if (e.key === 'ArrowDown') { e.preventDefault(); this.focusHit(i + 1); }
      if (e.key === 'ArrowUp') { e.preventDefault(); if (i === 0) this.input?.focus(); else this.focusHit(i - 1); }
    });
  }

  /** @returns {HTMLButtonElement[]} */
  buttons() {
    return [...(this.results?.querySelectorAll('button') ?? [])];
  }

  /** @param {number} i */
  focusHit(i) {
    const buttons = this.buttons();
    buttons[Math.min(i, buttons.length - 1)]?.focus();
  }

  schedule() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), DEBOUNCE_MS);
  }

  clear() {
    if (this.input) this.input.value = '';
    this.pending?.abort();
    this.hits = null;
    this.render();
  }

  async run() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending?.abort();
    const query = this.input?.value.trim() ?? '';
    if (!query) {
      this.hits = null;
      this.render();
      return;
    }
    const pending = new AbortController();
    this.pending = pending;
    try {
      const hits = await fetchHits(this.app.manifest.id, query.slice(0, 200), this.app.language, pending.signal);
      if (this.pending !== pending) return; // a newer query has started
      this.hits = hits.filter((h) => this.app.index.has(h.object));
      this.render();
    } catch {
      if (pending.signal.aborted) return;
      this.hits = [];
      this.render(t(this.app.language, 'searchFailed'));
    }
  }

  /**
   * (Re)writes the label, the hits and the announced count in the current language.
   * @param {string} [failure]
   */
  render(failure) {
    const lang = this.app.language;
    const label = document.querySelector('#search-label');
    if (label) label.textContent = t(lang, 'search');
    if (!this.results || !this.count) return;
    const hits = this.hits ?? [];
    this.results.hidden = hits.length === 0;
    this.results.replaceChildren(...hits.map((hit) => {
      const record = this.app.index.get(hit.object)?.record;
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.id = hit.object;
      const title = document.createElement('span');
      title.className = 'hit-title';
      title.textContent = record ? this.app.text(record.title) : hit.title;
      button.append(title);
      if (hit.snippet) {
        const snippet = document.createElement('span');
        snippet.className = 'hit-snippet';
        snippet.textContent = hit.snippet;
        button.append(snippet);
      }
      button.addEventListener('click', () => this.choose(hit.object, button));
      const item = document.createElement('li');
      item.append(button);
      return item;
    }));
    let status = '';
    if (failure) status = failure;
    else if (this.hits) status = this.hits.length === 0 ? t(lang, 'noHits')
      : this.hits.length === 1 ? t(lang, 'oneHit') : `${this.hits.length} ${t(lang, 'hits')}`;
    this.count.textContent = status;
  }

  /** The language changed: the labels follow and a shown search is asked again in it. */
  onLanguage() {
    this.render();
    if (this.hits) this.run();
  }
}
