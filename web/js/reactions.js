// @ts-check
// Visitors' reactions (docs/rooms-protocol.md, `reaction`): a small fixed set of emoji that a
// visitor sends from the bar's buttons or from the VR menu. The room relays them to the others,
// whose viewers show each above the sender's avatar for a few seconds and announce it in a polite
// live region (a screen reader hears "Anna reacted 👍").
import { t } from './i18n.js';
import { viewerState, keepLast, now } from './state.js';
import { listen } from './events.js';

/** The protocol's set; the server names the ones it accepts in `welcome.reactions`. */
export const REACTIONS = ['👍', '❤️', '👏', '😮', '😂', '❓'];
export const SHOW_MS = 4000;
// The server allows 4 a second (bursts of 8) and drops the rest; the buttons stay under that.
const MIN_GAP_MS = 300;

export class Reactions {
  /**
   * @param {import('./main.js').App} app
   * @param {import('./rooms.js').RoomClient} rooms
   * @param {import('./avatars.js').Avatars} avatars
   */
  constructor(app, rooms, avatars) {
    this.app = app;
    this.rooms = rooms;
    this.avatars = avatars;
    /** @type {string[]} what this room accepts (until `welcome` says otherwise: none) */
    this.allowed = [];
    this.lastSentAt = -Infinity;
    this.bar = /** @type {HTMLElement | null} */ (document.querySelector('#reactions'));
    this.live = /** @type {HTMLElement | null} */ (document.querySelector('#reaction-live'));
  }

  wire() {
    /** @typedef {import('./rooms.js').RoomMessage} RoomMessage */
    listen(this.rooms, 'welcome', (/** @type {RoomMessage} */ m) => {
      const offered = Array.isArray(m.reactions) ? m.reactions : REACTIONS;
      this.allowed = REACTIONS.filter((e) => offered.includes(e));
      this.render();
    });
    listen(this.rooms, 'status', (/** @type {string} */ s) => { if (s !== 'open') this.render(); });
    listen(this.rooms, 'reaction', (/** @type {RoomMessage} */ m) => this.receive(m.id, m.emoji));
  }

  get available() {
    return this.rooms.open && this.allowed.length > 0;
  }

  /**
   * Sends a reaction to the room; false when it is not one of the set, the room is not
   * connected, or the visitor reacts faster than the room accepts.
   * @param {string} emoji
   */
  send(emoji) {
    if (!this.available || !this.allowed.includes(emoji)) return false;
    const at = now();
    if (at - this.lastSentAt < MIN_GAP_MS) return false;
    if (!this.rooms.send({ type: 'reaction', emoji })) return false;
    this.lastSentAt = at;
    viewerState.reactionsSent++;
    return true;
  }

  /**
   * Another visitor's reaction: above their avatar, and said in the live region.
   * @param {unknown} id
   * @param {unknown} emoji
   */
  receive(id, emoji) {
    if (typeof id !== 'number' || typeof emoji !== 'string' || !REACTIONS.includes(emoji)) return;
    const name = this.app.visitors.get(id)?.name || t(this.app.language, 'visitor');
    const shown = this.avatars.showReaction(id, emoji, SHOW_MS);
    keepLast(viewerState.reactions, { id, emoji, name, shown, at: Math.round(now()) });
    if (this.live) {
      // the same text twice in a row is not announced again unless the region changes first
      this.live.textContent = '';
      this.live.textContent = `${name} ${t(this.app.language, 'reacted')} ${emoji}`;
    }
  }

  /** The bar's buttons, one per emoji, with a spoken name; hidden while not connected. */
  render() {
    const bar = this.bar;
    if (!bar) return;
    bar.hidden = !this.available;
    const lang = this.app.language;
    const label = bar.querySelector('.reactions-label');
    if (label) label.textContent = t(lang, 'react');
    const row = bar.querySelector('.reactions-buttons');
    if (!row) return;
    row.replaceChildren(...this.allowed.map((emoji) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.emoji = emoji;
      b.textContent = emoji;
      b.setAttribute('aria-label', t(lang, `reactions.${emoji}`));
      b.title = t(lang, `reactions.${emoji}`);
      b.addEventListener('click', () => this.send(emoji));
      return b;
    }));
  }
}
