// @ts-check
// Rooms client (docs/rooms-protocol.md v1): presence, poses, tours and live readings over one
// WebSocket. A lost connection reconnects with exponential backoff; the exhibition keeps working
// alone meanwhile.
import { encodePoseFrame, decodeStateFrame } from './posecodec.js';
import { viewerState, keepLast, reportError } from './state.js';
import { fire } from './events.js';
import { webSocketUrl } from './base.js';

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const POSE_HZ = 20;

/** @typedef {{type: string, [field: string]: any}} RoomMessage a text message: `type` plus that type's fields (docs/rooms-protocol.md) */

/**
 * An EventTarget: fires `status` (detail 'connecting' | 'open' | 'closed'), `state` (a decoded
 * binary state frame) and one event per text message type (welcome, joined, left, picked, tour,
 * reading, error, …) whose detail is the message.
 */
export class RoomClient extends EventTarget {
  /** @param {{exhibition: string, name: string, color: string, lang: string, guideCode?: string | null}} options */
  constructor({ exhibition, name, color, lang, guideCode = null }) {
    super();
    this.exhibition = exhibition;
    this.hello = { v: 1, name, color, lang };
    this.guideCode = guideCode;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {string | null} */
    this.room = null;
    this.backoff = BACKOFF_START_MS;
    this.stopped = false;
    this.lastPoseAt = 0;
    this.lastPoseKey = '';
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
  }

  url() {
    return webSocketUrl(`ws/rooms/${encodeURIComponent(this.exhibition)}`);
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      reportError('room connect', err);
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    viewerState.ws.status = 'connecting';
    fire(this, 'status', 'connecting');
    ws.addEventListener('open', () => {
      /** @type {RoomMessage} */
      const hello = { type: 'hello', ...this.hello };
      if (this.guideCode) hello.guide_code = this.guideCode;
      if (this.room) hello.room = this.room;
      this.sendJSON(hello);
    });
    ws.addEventListener('message', (ev) => this.onMessage(ev));
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      viewerState.ws.status = 'closed';
      viewerState.ws.lastClose = ev.code;
      fire(this, 'status', 'closed');
      // kicked (4000) or a protocol violation (1008): reconnecting would only repeat it
      if (!this.stopped && ev.code !== 4000 && ev.code !== 1008) this.scheduleReconnect();
    });
    ws.addEventListener('error', () => { viewerState.ws.lastError = 'socket error'; });
  }

  scheduleReconnect() {
    const delay = this.backoff * (0.75 + Math.random() * 0.5);
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    viewerState.ws.reconnects++;
    viewerState.ws.nextRetryMs = Math.round(delay);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  /** @param {MessageEvent} ev */
  onMessage(ev) {
    viewerState.ws.received++;
    if (ev.data instanceof ArrayBuffer) {
      try {
        const frame = decodeStateFrame(ev.data);
        viewerState.ws.ticks++;
        fire(this, 'state', frame);
      } catch (err) {
        reportError('room state frame', err);
      }
      return;
    }
    /** @type {RoomMessage} */
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      reportError('room', 'a text frame that is not JSON');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    keepLast(viewerState.ws.messages, msg.type);
    if (msg.type === 'welcome') {
      this.room = msg.room;
      this.backoff = BACKOFF_START_MS;
      viewerState.ws.status = 'open';
      viewerState.ws.connects++;
      viewerState.ws.selfId = msg.id;
      viewerState.ws.room = msg.room;
      viewerState.ws.guide = !!msg.guide;
      fire(this, 'status', 'open');
    } else if (msg.type === 'error') {
      viewerState.ws.lastError = `${msg.code}: ${msg.message}`;
      if (msg.code === 'bad_guide_code') this.guideCode = null;
    }
    fire(this, msg.type, msg);
  }

  get open() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN && viewerState.ws.status === 'open';
  }

  /** @param {RoomMessage} msg */
  sendJSON(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    viewerState.ws.sent++;
    return true;
  }

  /** @param {RoomMessage} msg */
  send(msg) {
    return this.open ? this.sendJSON(msg) : false;
  }

  /**
   * Becomes a guide: reconnects with the code (the protocol takes it in hello only).
   * @param {string} code
   */
  lead(code) {
    this.guideCode = code;
    if (this.ws) this.ws.close(1000);
    this.stopped = false;
    this.backoff = BACKOFF_START_MS;
    this.connect();
  }

  /**
   * parts as encodePoseFrame takes them; throttled and skipped when nothing moved.
   * @param {import('./posecodec.js').PoseParts} parts
   * @param {number} t
   */
  sendPose(parts, t) {
    if (!this.ws || !this.open || t - this.lastPoseAt < 1000 / POSE_HZ) return;
    const key = JSON.stringify(parts, (k, v) => (typeof v === 'number' ? Math.round(v * 200) : v));
    if (key === this.lastPoseKey && t - this.lastPoseAt < 1000) return;
    this.lastPoseAt = t;
    this.lastPoseKey = key;
    this.ws.send(encodePoseFrame(parts));
    viewerState.ws.sent++;
  }
}
