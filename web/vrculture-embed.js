// @ts-check
// <vrculture-exhibit src="https://museum.example/exhibitions/demo" object="vase" lang="sv">
// A custom element for museum pages: it wraps the viewer's embed page in an iframe (so the viewer
// keeps its own origin, storage and permissions), fires `load` when the viewer is ready and
// `error` when it cannot start, and offers a small API over postMessage:
//   el.select('vase')   el.startTour('highlights')   el.setLanguage('en')
// and a `select` event (detail: {object}) when the visitor picks something.
(() => {
  if (window.customElements.get('vrculture-exhibit')) return;
  const READY_TIMEOUT_MS = 60_000;
  /** @typedef {{type: string, [field: string]: unknown}} Message a postMessage to or from the viewer */

  /**
   * Turns the src (an exhibition page or an embed page) into the embed URL.
   * @param {string} src
   * @param {string | null} object
   * @param {string | null} lang
   * @param {boolean} room
   */
  function embedUrl(src, object, lang, room) {
    const url = new URL(src, document.baseURI);
    const m = url.pathname.match(/^(.*?)\/(?:exhibitions|embed)\/([a-z0-9][a-z0-9_-]{0,63})(?:\/([a-z0-9][a-z0-9_-]{0,63}))?\/?$/);
    if (!m) throw new Error(`vrculture-exhibit: src must point at /exhibitions/{id} or /embed/{id} (got ${src})`);
    const obj = object || m[3];
    const out = new URL(`${m[1]}/embed/${m[2]}${obj ? `/${obj}` : ''}`, url);
    if (lang) out.searchParams.set('lang', lang);
    if (room) out.searchParams.set('room', '1');
    return out;
  }

  class VrcultureExhibit extends HTMLElement {
    static get observedAttributes() { return ['src', 'object', 'lang', 'room', 'title']; }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      this.root.innerHTML = '<style>:host{display:block;position:relative;aspect-ratio:16/9;min-height:240px}'
        + 'iframe{position:absolute;inset:0;width:100%;height:100%;border:0}</style>';
      this.onMessage = this.onMessage.bind(this);
      /** @type {HTMLIFrameElement | null} */
      this.frame = null;
      /** @type {string | null} */
      this.origin = null;
      this.ready = false;
      /** @type {string | null} why the viewer could not start, for listeners that come late */
      this.error = null;
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      this.timer = undefined;
      /** @type {Message[]} messages waiting for the viewer to be ready */
      this.pending = [];
    }

    connectedCallback() {
      window.addEventListener('message', this.onMessage);
      this.render();
    }

    disconnectedCallback() {
      window.removeEventListener('message', this.onMessage);
      clearTimeout(this.timer);
    }

    attributeChangedCallback() {
      if (this.isConnected) this.render();
    }

    render() {
      const src = this.getAttribute('src');
      if (!src) return;
      let url;
      try {
        url = embedUrl(src, this.getAttribute('object'), this.getAttribute('lang'), this.hasAttribute('room'));
      } catch (err) {
        this.fail(err instanceof Error ? err.message : String(err));
        return;
      }
      if (this.frame && this.frame.src === url.href) return;
      this.ready = false;
      this.error = null;
      this.origin = url.origin;
      const frame = document.createElement('iframe');
      frame.src = url.href;
      frame.title = this.getAttribute('title') || 'vrculture 3D exhibition';
      frame.allow = 'xr-spatial-tracking; fullscreen';
      frame.allowFullscreen = true;
      frame.loading = 'lazy';
      frame.referrerPolicy = 'strict-origin-when-cross-origin';
      frame.addEventListener('error', () => this.fail('the viewer page could not be loaded'));
      if (this.frame) this.frame.replaceWith(frame); else this.root.append(frame);
      this.frame = frame;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { if (!this.ready) this.fail('the viewer did not start in time'); }, READY_TIMEOUT_MS);
    }

    /** @param {MessageEvent} ev */
    onMessage(ev) {
      // only our own iframe, from the viewer's origin, may talk to us
      if (!this.frame || ev.source !== this.frame.contentWindow || ev.origin !== this.origin) return;
      const m = ev.data;
      if (!m || typeof m.type !== 'string') return;
      if (m.type === 'vrculture:ready') {
        this.ready = true;
        clearTimeout(this.timer);
        for (const msg of this.pending.splice(0)) this.post(msg);
        this.dispatchEvent(new CustomEvent('load', { detail: { exhibition: m.exhibition, object: m.object || null } }));
      } else if (m.type === 'vrculture:error') {
        this.fail(typeof m.message === 'string' ? m.message : 'the viewer failed');
      } else if (m.type === 'vrculture:select') {
        this.dispatchEvent(new CustomEvent('select', { detail: { object: m.object ?? null } }));
      }
    }

    /** @param {string} message */
    fail(message) {
      clearTimeout(this.timer);
      this.error = message; // for listeners that come late, like an <img>'s `complete`
      // after the page is parsed, like an <img>'s error: scripts below the element can listen
      const fire = () => setTimeout(() => this.dispatchEvent(new CustomEvent('error', { detail: { message } })), 0);
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fire, { once: true });
      else fire();
    }

    /** @param {Message} msg */
    post(msg) {
      const target = this.frame?.contentWindow;
      if (!this.ready || !target || !this.origin) { this.pending.push(msg); return; }
      target.postMessage(msg, this.origin);
    }

    /** @param {string | null} object */
    select(object) { this.post({ type: 'vrculture:select', object: object ?? null }); }

    /** @param {string} tour */
    startTour(tour) { this.post({ type: 'vrculture:startTour', tour }); }

    /** @param {string} lang */
    setLanguage(lang) { this.post({ type: 'vrculture:setLanguage', lang }); }
  }

  window.customElements.define('vrculture-exhibit', VrcultureExhibit);
})();
