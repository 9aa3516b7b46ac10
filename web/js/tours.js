// @ts-check
// Tours: self-guided (stop by stop from the manifest) or led by a guide in the room (the server's
// `tour` messages). A stop moves a follower to its view point, selects its object and shows its
// narration, spoken with the browser's speech synthesis when the visitor asks for it.
import { t } from './i18n.js';
import { viewerState, reportError } from './state.js';

/** @typedef {import('./manifest.js').Text} Text */
/**
 * A stop as shown: from the manifest (self-guided) or from the room's `tour` message.
 * @typedef {{tour: string, stop: number, stops: number, object?: string, title?: Text, narration?: Text,
 *   view_point?: import('./manifest.js').ViewPoint, move: boolean, tourTitle?: Text}} ShownStop
 */

export class Tours {
  /** @param {import('./main.js').App} app */
  constructor(app) {
    this.app = app;
    /** @type {{tour: import('./manifest.js').Tour, stop: number} | null} when self-guided */
    this.local = null;
    /** @type {import('./rooms.js').RoomMessage | null} the last `tour` message from the room */
    this.remote = null;
    /** @type {ShownStop | null} */
    this.current = null;
    /** @type {number | null} the guide this visitor follows */
    this.followed = null;
    this.speak = false;
    /** @type {SpeechSynthesisUtterance | null} the utterance the caption shows */
    this.captionFor = null;
    /** @type {string | null} */
    this.captionText = null;
    /** @type {number | undefined} */
    this.captionTimer = undefined;
    /** @type {HTMLElement | null} */
    this.bar = document.querySelector('#tour-bar');
  }

  get manifest() {
    return this.app.manifest;
  }

  /**
   * Starts a tour: through the room when this visitor is a guide, else self-guided.
   * @param {string} tourId
   */
  start(tourId) {
    const tour = this.manifest.tours.find((x) => x.id === tourId);
    if (!tour) return false;
    if (viewerState.ws.guide && this.app.rooms?.open) {
      viewerState.tour.leading = true;
      return this.app.rooms.send({ type: 'tour_start', tour: tourId });
    }
    this.local = { tour, stop: 0 };
    this.applyLocal();
    return true;
  }

  next() {
    if (this.app.rooms && this.isLeading()) return this.app.rooms.send({ type: 'tour_next' });
    if (!this.local || this.local.stop >= this.local.tour.stops.length - 1) return false;
    this.local.stop++;
    this.applyLocal();
    return true;
  }

  previous() {
    if (this.app.rooms && this.isLeading()) {
      const stop = (this.remote?.stop ?? 0) - 1;
      return stop >= 0 && this.app.rooms.send({ type: 'tour_goto', stop });
    }
    if (!this.local || this.local.stop === 0) return false;
    this.local.stop--;
    this.applyLocal();
    return true;
  }

  end() {
    if (this.isLeading()) this.app.rooms?.send({ type: 'tour_end' });
    if (viewerState.tour.following) this.app.rooms?.send({ type: 'follow', guide: null });
    this.followed = null;
    this.local = null;
    this.remote = null;
    this.stopSpeaking();
    Object.assign(viewerState.tour, { id: null, stop: -1, narration: null, following: false, leading: false });
    this.render();
  }

  isLeading() {
    return !!(viewerState.ws.guide && this.app.rooms?.open && this.remote && this.remote.tour);
  }

  /** Self-guided, or leading the room's tour: this visitor may move it on. */
  canSteer() {
    return !!this.local || this.isLeading();
  }

  /** @param {number} guideId */
  follow(guideId) {
    this.followed = guideId;
    return !!this.app.rooms?.send({ type: 'follow', guide: guideId });
  }

  /**
   * After a reconnect the server has forgotten whom we followed: ask again if they are there.
   * @param {{id: number, guide?: boolean}[]} visitors
   */
  rejoin(visitors) {
    if (this.followed != null && visitors.some((v) => v.id === this.followed && v.guide)) {
      this.app.rooms?.send({ type: 'follow', guide: this.followed });
    }
  }

  applyLocal() {
    if (!this.local) return;
    const { tour, stop } = this.local;
    const s = tour.stops[stop];
    this.show({ tour: tour.id, stop, stops: tour.stops.length, object: s.object, title: s.title,
      narration: s.narration, view_point: s.view_point, move: true, tourTitle: tour.title });
  }

  /**
   * A `tour` message from the room (also the `tour` field of `welcome`).
   * @param {import('./rooms.js').RoomMessage | null} msg
   */
  onRoomTour(msg) {
    if (!msg || msg.tour == null) {
      if (this.remote) { this.remote = null; this.end(); }
      return;
    }
    this.remote = msg;
    this.local = null;
    viewerState.tour.following = !!msg.follow;
    viewerState.tour.leading = !!viewerState.ws.guide && msg.guide === viewerState.ws.selfId;
    const tour = this.manifest.tours.find((x) => x.id === msg.tour);
    this.show({ tour: msg.tour, stop: msg.stop, stops: msg.stops, object: msg.object, title: msg.title,
      narration: msg.narration, view_point: msg.view_point, tourTitle: tour?.title,
      move: !!msg.follow || viewerState.tour.leading });
  }

  /** @param {ShownStop} stop */
  show(stop) {
    const app = this.app;
    this.current = stop;
    const narration = app.text(stop.narration);
    Object.assign(viewerState.tour, { id: stop.tour, stop: stop.stop, stops: stop.stops, narration });
    const vp = stop.view_point;
    const viewer = app.viewer;
    if (stop.move && vp && viewer) {
      const move = () => {
        viewer.teleport(vp.position[0], vp.position[2], 'tour', vp.yaw);
        if (app.vrPanel?.current) app.vrPanel.place(); // the stop's panel comes along
      };
      // in a headset the jump happens behind a short fade, as from the object list
      if (viewerState.inXR && app.xr) app.xr.fadeMove(move);
      else move();
    }
    if (stop.object && app.index.has(stop.object)) app.select(stop.object, 'tour', null, { narration });
    this.render();
    if (this.speak) this.say(narration);
  }

  render() {
    const bar = this.bar;
    if (!bar) return;
    const stop = this.current;
    const active = viewerState.tour.id != null && stop;
    bar.hidden = !active;
    if (!active) return;
    const lang = this.app.language;
    const canSteer = this.canSteer();
    /** @param {string} selector */
    const part = (selector) => /** @type {HTMLElement | null} */ (bar.querySelector(selector));
    /** @param {string} action */
    const button = (action) => /** @type {HTMLButtonElement | null} */ (bar.querySelector(`[data-action=${action}]`));
    const title = part('.tour-title');
    if (title) title.textContent = `${this.app.text(stop.tourTitle) || t(lang, 'tour')} – ${t(lang, 'stop')} ${stop.stop + 1} ${t(lang, 'of')} ${stop.stops}`;
    const narration = part('.tour-narration');
    if (narration) narration.textContent = this.app.text(stop.narration);
    const prev = button('prev');
    const next = button('next');
    if (prev) {
      prev.textContent = t(lang, 'previous');
      prev.hidden = !canSteer;
      prev.disabled = stop.stop === 0;
    }
    if (next) {
      next.textContent = t(lang, 'next');
      next.hidden = !canSteer;
      next.disabled = stop.stop >= stop.stops - 1;
    }
    const speak = button('speak');
    if (speak) {
      speak.textContent = t(lang, 'speak');
      speak.setAttribute('aria-pressed', String(this.speak));
      speak.hidden = !('speechSynthesis' in window);
    }
    const end = button('end');
    if (end) end.textContent = t(lang, 'endTour');
  }

  wire() {
    if (!this.bar) return;
    this.bar.addEventListener('click', (e) => {
      const action = e.target instanceof Element ? e.target.closest('button')?.dataset.action : undefined;
      if (action === 'next') this.next();
      else if (action === 'prev') this.previous();
      else if (action === 'end') this.end();
      else if (action === 'speak') this.toggleSpeech();
    });
  }

  toggleSpeech(on = !this.speak) {
    this.speak = on;
    if (on && viewerState.tour.narration) this.say(viewerState.tour.narration);
    if (!on) this.stopSpeaking();
    this.render();
  }

  /** @param {string | null} text */
  say(text) {
    if (!text || !('speechSynthesis' in window)) return;
    try {
      window.speechSynthesis.cancel();
      const u = new SpeechSynthesisUtterance(text);
      u.lang = this.app.language;
      const voice = window.speechSynthesis.getVoices().find((v) => v.lang && v.lang.toLowerCase().startsWith(this.app.language));
      if (voice) u.voice = voice;
      this.caption(u, text);
      window.speechSynthesis.speak(u);
      viewerState.tour.spoken++;
      viewerState.tour.spokenLang = u.lang;
    } catch (err) {
      this.clearCaption();
      reportError('speech', err);
    }
  }

  /**
   * Shows what is read aloud as a caption until the utterance ends. Where the browser has no
   * voice (it ends the utterance at once, or never starts it), the caption stays as long as
   * reading it aloud would take, so a deaf visitor and a silent browser get the same text.
   * @param {SpeechSynthesisUtterance} u
   * @param {string} text
   */
  caption(u, text) {
    this.clearCaption();
    this.captionFor = u;
    let started = false;
    const words = text.split(/\s+/).filter(Boolean).length;
    const readingMs = Math.max(2000, (words / 2.5) * 1000); // ~150 words a minute
    // an utterance cancelled by the next one ends later: only this utterance's end clears
    const done = () => { if (this.captionFor === u) this.clearCaption(); };
    this.captionTimer = window.setTimeout(done, readingMs);
    u.addEventListener('start', () => {
      started = true;
      window.clearTimeout(this.captionTimer);
    });
    u.addEventListener('end', () => { if (started) done(); });
    u.addEventListener('error', () => { if (started) done(); });
    this.captionText = text;
    viewerState.tour.caption = text;
    const box = captionBox();
    box.textContent = text;
    box.hidden = false;
    this.app.vrPanel?.showCaption(text);
  }

  clearCaption() {
    window.clearTimeout(this.captionTimer);
    this.captionFor = null;
    this.captionText = null;
    viewerState.tour.caption = null;
    const box = document.querySelector('#caption');
    if (box instanceof HTMLElement) { box.textContent = ''; box.hidden = true; }
    this.app.vrPanel?.showCaption(null);
  }

  stopSpeaking() {
    try { window.speechSynthesis?.cancel(); } catch { /* nothing to stop */ }
    this.clearCaption();
  }
}

/** The desktop caption: an aria-live region, made once on first use. */
function captionBox() {
  let box = document.querySelector('#caption');
  if (!(box instanceof HTMLElement)) {
    box = document.createElement('p');
    box.id = 'caption';
    box.setAttribute('aria-live', 'polite');
    document.body.append(box);
  }
  return /** @type {HTMLElement} */ (box);
}
