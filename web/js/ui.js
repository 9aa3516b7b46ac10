// @ts-check
// HTML overlays: header, object list, info panel, status line and tour bar. They work with
// keyboard and screen readers and without WebGL (the list and panels stay usable).
import { t, rememberLanguage } from './i18n.js';
import { panelContent, liveLabel, figureLabel, figureHow } from './content.js';
import { drawChart } from './smart.js';
import { viewerState } from './state.js';
import { ObjectSearch } from './search.js';
import { Programme } from './programme.js';

/**
 * @param {string} sel
 * @returns {HTMLElement | null}
 */
const $ = (sel) => document.querySelector(sel);

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined | EventListener>} [attrs] `text`,
 *   `on<event>` listeners, else attributes (true: present, false or null: absent)
 * @param {...(Node | string | null)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/** @type {Record<string, string>} */
const LANGUAGE_NAMES = { sv: 'Svenska', en: 'English' };

export class Overlay {
  /** @param {import('./main.js').App} app */
  constructor(app) {
    this.app = app;
    this.panel = /** @type {HTMLElement} */ ($('#panel'));
    /** @type {HTMLElement | null} where focus goes back when the panel closes */
    this.returnFocus = null;
    /** @type {{id: string, annotation: string | null} | null} */
    this.current = null;
    /** @type {MediaQueryList | null} */
    this.narrow = null;
    this.buildLanguageSelect();
    this.setupCollapsibleList();
    this.search = new ObjectSearch(app, (id, button) => this.chooseFromList(id, button));
    this.programme = new Programme(app);
    this.render();
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.panel.hidden) this.close();
    });
  }

  /** On a phone the object list folds away behind a button so that the view stays visible. */
  setupCollapsibleList() {
    const nav = $('#object-nav');
    const toggle = $('#objects-toggle');
    if (!nav || !toggle) return;
    this.narrow = window.matchMedia('(max-width: 600px)');
    // an embed is small: its list starts folded; a one-object embed has no list at all
    nav.hidden = this.app.mode === 'turntable';
    this.setListOpen(!this.narrow.matches && this.app.mode === 'exhibition');
    toggle.addEventListener('click', () => this.setListOpen(nav.classList.contains('collapsed')));
  }

  /** @param {boolean} open */
  setListOpen(open) {
    $('#object-nav')?.classList.toggle('collapsed', !open);
    $('#objects-toggle')?.setAttribute('aria-expanded', String(open));
  }

  get lang() {
    return this.app.language;
  }

  buildLanguageSelect() {
    const sel = /** @type {HTMLSelectElement | null} */ ($('#lang'));
    if (!sel) return;
    sel.replaceChildren(...this.app.manifest.languages.map((l) => el('option', { value: l, text: LANGUAGE_NAMES[l] || l })));
    sel.value = this.lang;
    sel.addEventListener('change', () => {
      rememberLanguage(sel.value);
      this.app.setLanguage(sel.value);
    });
  }

  /** (Re)writes every visible string in the current language. */
  render() {
    const m = this.app.manifest;
    /** @param {import('./i18n.js').Text} x */
    const tx = (x) => this.app.text(x);
    document.documentElement.lang = this.lang;
    document.title = `${tx(m.title)} – vrculture`;
    const title = $('#exhibition-title');
    const only = this.app.objectOnly && m.objects.find((o) => o.id === this.app.objectOnly);
    if (title) title.textContent = only ? tx(only.title) : tx(m.title);
    const sel = /** @type {HTMLSelectElement | null} */ ($('#lang'));
    if (sel) sel.value = this.lang;
    const label = $('#lang-label');
    if (label) label.textContent = t(this.lang, 'language');
    const vr = $('#enter-vr');
    if (vr) vr.textContent = viewerState.inXR ? t(this.lang, 'exitVR') : t(this.lang, 'enterVR');
    for (const e of [$('#objects-heading'), $('#objects-toggle')]) if (e) e.textContent = t(this.lang, 'objects');
    for (const [sel, key] of [['#guide-code-label', 'guideCode'], ['#lead-button', 'lead']]) {
      const e = $(sel);
      if (e) e.textContent = t(this.lang, key);
    }
    const help = $('#help');
    if (help) help.textContent = this.app.mode === 'turntable' ? t(this.lang, 'turntable') : t(this.lang, 'help');
    this.search.onLanguage();
    this.programme.render();
    this.renderList();
    this.renderTours();
    this.app.renderGuides?.();
    if (!this.panel.hidden && this.current) this.open(this.current.id, { annotation: this.current.annotation, focus: false });
    this.app.tours?.render();
  }

  renderList() {
    const list = $('#object-list');
    if (!list) return;
    const m = this.app.manifest;
    const items = [...m.objects, ...m.smart_exhibits].map((o) => el('li', {},
      el('button', { type: 'button', 'data-id': o.id, 'aria-pressed': String(viewerState.selected === o.id),
        onclick: (/** @type {Event} */ e) => this.chooseFromList(o.id, /** @type {HTMLElement} */ (e.currentTarget)) },
      this.app.text(o.title))));
    list.replaceChildren(...items);
  }

  /**
   * The visitor chose an object in the list or among the search hits.
   * @param {string} id
   * @param {HTMLElement} button where focus goes back when the panel closes
   */
  chooseFromList(id, button) {
    this.returnFocus = button;
    if (this.narrow?.matches || this.app.mode !== 'exhibition') {
      this.setListOpen(false);
      this.returnFocus = $('#objects-toggle');
    }
    this.app.goTo(id, 'keyboard'); // to its view point, panel open
  }

  renderTours() {
    const box = $('#tours');
    if (!box) return;
    const tours = this.app.manifest.tours;
    box.hidden = tours.length === 0;
    box.replaceChildren(...tours.map((tour) => el('button', { type: 'button', 'data-tour': tour.id,
      onclick: () => this.app.startTour(tour.id) }, `${t(this.lang, 'tour')}: ${this.app.text(tour.title)}`)));
  }

  /**
   * Shows the panel of an object or exhibit; focus moves into it unless told otherwise.
   * @param {string} id
   * @param {{annotation?: string | null, focus?: boolean}} [options]
   */
  open(id, { annotation = null, focus = true } = {}) {
    const c = panelContent(this.app, id, annotation);
    if (!c) return;
    this.current = { id, annotation };
    const lang = this.lang;
    /** @type {HTMLElement[]} */
    const parts = [
      el('div', { class: 'panel-head' },
        el('h2', { id: 'panel-title', tabindex: '-1', text: c.title }),
        el('button', { type: 'button', class: 'close', 'aria-label': t(lang, 'close'), onclick: () => this.close() }, '×')),
    ];
    for (const line of c.lines) parts.push(el('p', { class: 'meta', text: line }));
    if (c.description) parts.push(el('p', { class: 'description', text: c.description }));
    if (c.live.length) parts.push(this.liveSection(c));
    if (c.annotations.length) {
      parts.push(el('h3', { text: t(lang, 'annotations') }));
      parts.push(el('ul', { class: 'annotations' }, ...c.annotations.map((a) => el('li', {},
        el('button', { type: 'button', 'aria-expanded': String(c.annotation?.id === a.id),
          onclick: () => this.app.select(id, 'keyboard', a.id) }, a.title),
        c.annotation?.id === a.id && a.text ? el('p', { text: a.text }) : null))));
    }
    if (c.credit || c.licence) {
      const credit = el('p', { class: 'credit' });
      if (c.credit) credit.append(`${t(lang, 'credit')}: ${c.credit}. `);
      if (c.licence) {
        credit.append(`${t(lang, 'licence')}: `);
        credit.append(c.licenceUrl ? el('a', { href: c.licenceUrl, target: '_blank', rel: 'noopener license', text: c.licence }) : c.licence);
      }
      parts.push(credit);
    }
    this.panel.replaceChildren(...parts);
    this.panel.hidden = false;
    this.panel.setAttribute('aria-label', c.title);
    viewerState.panel = { open: true, id, lang, title: c.title, vr: viewerState.panel.vr };
    for (const b of document.querySelectorAll('#object-list button')) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-id') === id));
    }
    if (focus) $('#panel-title')?.focus();
  }

  /** @param {import('./content.js').PanelContent} c */
  liveSection(c) {
    const lang = this.lang;
    const box = el('section', { class: 'live', 'aria-live': 'polite' }, el('h3', { text: t(lang, 'liveValues') }));
    for (const v of c.live) {
      box.append(el('p', { class: 'live-value', 'data-feed': v.feed, text: liveLabel(lang, v) }));
      if (v.figure) {
        box.append(el('p', { class: 'goal-figure', 'data-feed': v.feed, text: figureLabel(lang, v.figure) }));
        box.append(el('details', { class: 'goal-how', 'data-feed': v.feed }, el('summary', { text: t(lang, 'figure.how') }),
          el('p', { text: figureHow(lang, v.figure) })));
      }
      const canvas = el('canvas', { width: 320, height: 90, role: 'img',
        'aria-label': `${t(lang, 'history')}: ${v.series.slice(-10).join(', ') || t(lang, 'noReadings')}` });
      drawChart(/** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')), v.series, 1, 1, 318, 88, { max: v.kind === 'eye-tracking-screening' ? null : 100 });
      box.append(canvas);
    }
    return box;
  }

  /**
   * A reading arrived: refresh the open panel of that exhibit in place (keeps focus).
   * @param {string} exhibitId
   */
  refreshLive(exhibitId) {
    if (this.panel.hidden || !this.current || this.current.id !== exhibitId) return;
    const c = panelContent(this.app, exhibitId);
    const old = this.panel.querySelector('.live');
    if (!old || !c || !c.live.length) return;
    // an explanation the visitor opened stays open when the figures update under it
    const opened = new Set([...old.querySelectorAll('details.goal-how[open]')].map((d) => d.getAttribute('data-feed')));
    const fresh = this.liveSection(c);
    for (const d of fresh.querySelectorAll('details.goal-how')) if (opened.has(d.getAttribute('data-feed'))) d.setAttribute('open', '');
    old.replaceWith(fresh);
  }

  /** The visitor closes the panel: this deselects, which hides every panel (HTML and VR). */
  close() {
    this.app.select(null, 'keyboard');
  }

  hide() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.current = null;
    viewerState.panel = { ...viewerState.panel, open: false, id: null };
    for (const b of document.querySelectorAll('#object-list button')) b.setAttribute('aria-pressed', 'false');
    if (this.returnFocus && document.contains(this.returnFocus)) this.returnFocus.focus();
  }

  /**
   * @param {string} text
   * @param {{progress?: number | null}} [options]
   */
  status(text, { progress = null } = {}) {
    const s = $('#status');
    if (!s) return;
    s.hidden = !text;
    const line = s.querySelector('.text');
    if (line) line.textContent = text || '';
    const bar = s.querySelector('progress');
    if (bar) {
      bar.hidden = progress == null;
      if (progress != null) bar.value = progress;
    }
  }
}

/** @param {string} message */
export function showFatal(message) {
  const box = $('#fatal');
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
}
