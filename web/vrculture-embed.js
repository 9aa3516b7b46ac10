// <vrculture-exhibit src="https://museum.example/exhibitions/demo" object="vase" lang="sv">
// A custom element for museum pages: it wraps the viewer's embed page in an iframe (so the viewer
// keeps its own origin, storage and permissions), fires `load` when the viewer is ready and
// `error` when it cannot start, and offers a small API over postMessage:
//   el.select('vase')   el.startTour('highlights')   el.setLanguage('en')
// and a `select` event (detail: {object}) when the visitor picks something.
(() => {
  if (window.customElements.get('vrculture-exhibit')) return;
  const READY_TIMEOUT_MS = 60_000;

  /** Turns the src (an exhibition page, an embed page, or a server root) into the embed URL. */
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
      this.attachShadow({ mode: 'open' });
      this.shadowRoot.innerHTML = '<style>:host{display:block;position:relative;aspect-ratio:16/9;min-height:240px}'
        + 'iframe{position:absolute;inset:0;width:100%;height:100%;border:0}</style>';
      this.onMessage = this.onMessage.bind(this);
      this.frame = null;
      this.origin = null;
      this.ready = false;
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
        this.fail(err.message);
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
      if (this.frame) this.frame.replaceWith(frame); else this.shadowRoot.append(frame);
      this.frame = frame;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { if (!this.ready) this.fail('the viewer did not start in time'); }, READY_TIMEOUT_MS);
    }

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

    fail(message) {
      clearTimeout(this.timer);
      this.error = message; // for listeners that come late, like an <img>'s `complete`
      // after the page is parsed, like an <img>'s error: scripts below the element can listen
      const fire = () => setTimeout(() => this.dispatchEvent(new CustomEvent('error', { detail: { message } })), 0);
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fire, { once: true });
      else fire();
    }

    post(msg) {
      if (!this.ready) { this.pending.push(msg); return; }
      this.frame.contentWindow.postMessage(msg, this.origin);
    }

    select(object) { this.post({ type: 'vrculture:select', object: object ?? null }); }

    startTour(tour) { this.post({ type: 'vrculture:startTour', tour }); }

    setLanguage(lang) { this.post({ type: 'vrculture:setLanguage', lang }); }
  }

  window.customElements.define('vrculture-exhibit', VrcultureExhibit);
})();
