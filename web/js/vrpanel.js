// @ts-check
// The info panel inside VR: a canvas texture on a plane floating beside the visitor, with large
// text, the credit line and licence, annotations and live values. Rays hit its buttons (close,
// language, annotations) through the hit's UV coordinates. The same panel shows the comfort menu
// (turning, vignette, seated mode, text size) and, in a room, the reactions to send; a second,
// head-locked plane shows captions.
import * as THREE from 'three';
import { t } from './i18n.js';
import { panelContent, liveLabel, figureLabel, figureHow } from './content.js';
import { drawChart } from './smart.js';
import { viewerState } from './state.js';
import { COMFORT_CHOICES } from './storage.js';

const PX = 1024; // canvas side
const SIZE = 0.9; // metres: 1024 px over 0.9 m keeps 36 px body text ~3 cm tall, readable at 1 m

/** @typedef {{type: 'close' | 'speak' | 'next' | 'settings'} | {type: 'language', lang: string} | {type: 'annotation', id: string} | {type: 'reaction', emoji: string} | {type: 'setting', key: keyof import('./storage.js').Comfort, value: string | number | boolean}} Action */

export class VRPanel {
  /** @param {import('./main.js').App} app */
  constructor(app) {
    this.app = app;
    this.canvas = document.createElement('canvas');
    this.canvas.width = PX;
    this.canvas.height = PX;
    this.texture = new THREE.CanvasTexture(this.canvas);
    this.texture.colorSpace = THREE.SRGBColorSpace;
    this.texture.anisotropy = 4;
    this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(SIZE, SIZE),
      new THREE.MeshBasicMaterial({ map: this.texture, transparent: true, toneMapped: false }));
    this.mesh.name = 'vr-panel';
    this.mesh.visible = false;
    this.mesh.renderOrder = 10;
    /** @type {{x: number, y: number, w: number, h: number, action: Action}[]} in canvas px */
    this.buttons = [];
    /** @type {{id: string, annotation: string | null, narration: string | null} | null} */
    this.current = null;
    /** the comfort menu is shown in place of the object */
    this.settingsOpen = false;
    this.captionCanvas = document.createElement('canvas');
    this.captionCanvas.width = PX;
    this.captionCanvas.height = 256;
    this.captionTexture = new THREE.CanvasTexture(this.captionCanvas);
    this.captionTexture.colorSpace = THREE.SRGBColorSpace;
    // 0.8 m wide at 1.2 m, a little below the line of sight, in front of everything
    this.caption = new THREE.Mesh(new THREE.PlaneGeometry(0.8, 0.2),
      new THREE.MeshBasicMaterial({ map: this.captionTexture, transparent: true, toneMapped: false, depthTest: false }));
    this.caption.name = 'vr-caption';
    this.caption.position.set(0, -0.3, -1.2);
    this.caption.renderOrder = 9000;
    this.caption.visible = false;
    /** @type {string | null} */
    this.captionText = null;
  }

  /** @returns {import('./storage.js').Comfort | null} */
  get comfort() {
    return this.app.xr?.comfort ?? null;
  }

  /** The panel (and the caption) grow with the text size setting. */
  applyTextScale() {
    const scale = this.comfort?.textScale ?? 1;
    this.mesh.scale.setScalar(scale);
    this.caption.scale.setScalar(scale);
  }

  /**
   * A head-locked caption while narration is spoken; null clears it.
   * @param {string | null} text
   */
  showCaption(text) {
    this.captionText = text;
    const cam = this.app.viewer?.camera;
    if (cam && this.caption.parent !== cam) cam.add(this.caption);
    this.caption.visible = !!text;
    if (!text) return;
    const g = /** @type {CanvasRenderingContext2D} */ (this.captionCanvas.getContext('2d'));
    g.clearRect(0, 0, PX, 256);
    roundRect(g, 0, 0, PX, 256, 28, 'rgba(0,0,0,0.8)');
    g.fillStyle = '#fff';
    g.font = '44px sans-serif';
    wrap(g, text, 32, 70, PX - 64, 56, 4);
    this.captionTexture.needsUpdate = true;
  }

  /** Opens the comfort menu in front of the visitor, or closes it. */
  toggleSettings(open = !this.settingsOpen) {
    this.settingsOpen = open;
    viewerState.panel = { ...viewerState.panel, vrSettings: open };
    if (open) {
      this.drawSettings();
      this.place();
      this.applyTextScale();
      this.mesh.visible = true;
    } else if (this.current) {
      this.refresh();
    } else {
      this.mesh.visible = false;
    }
  }

  drawSettings() {
    const c = this.comfort;
    if (!c) return;
    const lang = this.app.language;
    const g = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    this.buttons = [];
    g.clearRect(0, 0, PX, PX);
    roundRect(g, 0, 0, PX, PX, 36, 'rgba(18,20,26,0.97)');
    g.fillStyle = '#fff';
    g.font = 'bold 60px sans-serif';
    g.fillText(t(lang, 'comfort'), 48, 100);
    this.button(g, PX - 130, 30, 100, 90, '×', { type: 'settings' }, 64);
    /** @param {string} label @param {number} y */
    const heading = (label, y) => { g.fillStyle = '#c9d1d9'; g.font = '36px sans-serif'; g.fillText(label, 48, y); };
    const on = (/** @type {boolean} */ b) => (b ? ' ✓' : '');
    heading(t(lang, 'turning'), 180);
    COMFORT_CHOICES.turn.forEach((v, i) => this.button(g, 48 + i * 312, 200, 296, 70,
      t(lang, `turn.${v}`) + on(c.turn === v), { type: 'setting', key: 'turn', value: v }, 34, 'center', c.turn === v));
    heading(t(lang, 'turnSpeed'), 320);
    COMFORT_CHOICES.turnSpeed.forEach((v, i) => this.button(g, 48 + i * 234, 340, 218, 70,
      `${v}°/s${on(c.turnSpeed === v)}`, { type: 'setting', key: 'turnSpeed', value: v }, 34, 'center', c.turnSpeed === v));
    heading(t(lang, 'vignette'), 460);
    this.button(g, 48, 480, 300, 70, (c.vignette ? t(lang, 'on') : t(lang, 'off')), { type: 'setting', key: 'vignette', value: !c.vignette }, 34, 'center', c.vignette);
    heading(t(lang, 'seated'), 600);
    this.button(g, 48, 620, 300, 70, (c.seated ? t(lang, 'on') : t(lang, 'off')), { type: 'setting', key: 'seated', value: !c.seated }, 34, 'center', c.seated);
    COMFORT_CHOICES.seatedHeight.forEach((v, i) => this.button(g, 364 + i * 102, 620, 94, 70,
      `${Math.round(v * 100)}`, { type: 'setting', key: 'seatedHeight', value: v }, 30, 'center', c.seatedHeight === v));
    heading(t(lang, 'textSize'), 760);
    COMFORT_CHOICES.textScale.forEach((v, i) => this.button(g, 48 + i * 234, 780, 218, 70,
      `${Math.round(v * 100)} %${on(c.textScale === v)}`, { type: 'setting', key: 'textScale', value: v }, 34, 'center', c.textScale === v));
    const reactions = this.app.reactions;
    if (reactions?.available) {
      heading(t(lang, 'react'), 890);
      reactions.allowed.forEach((emoji, i) => this.button(g, 48 + i * 154, 905, 140, 64, emoji,
        { type: 'reaction', emoji }, 40));
    }
    g.fillStyle = '#aab';
    g.font = '30px sans-serif';
    g.fillText(fit(g, t(lang, 'menuHint'), PX - 96), 48, reactions?.available ? 1004 : 940);
    this.texture.needsUpdate = true;
  }

  /** @param {THREE.Scene} scene */
  attach(scene) {
    scene.add(this.mesh);
  }

  /**
   * Opens next to the visitor's line of sight, facing them.
   * @param {string} id
   * @param {string | null} [annotation]
   * @param {{reposition?: boolean, narration?: string | null}} [options]
   */
  show(id, annotation = null, { reposition = true, narration = null } = {}) {
    const c = panelContent(this.app, id, annotation);
    if (!c) return;
    this.settingsOpen = false;
    // a tour stop's narration takes the description's place while the stop is shown
    if (narration) c.description = narration;
    this.current = { id, annotation, narration };
    this.draw(c);
    if (reposition) this.place();
    this.applyTextScale();
    this.mesh.visible = true;
    viewerState.panel = { ...viewerState.panel, vr: true, vrTitle: c.title, vrLang: c.lang, vrSettings: false };
  }

  hide() {
    this.current = null;
    viewerState.panel = { ...viewerState.panel, vr: false };
    if (!this.settingsOpen) this.mesh.visible = false;
  }

  refresh() {
    this.app.xr?.relabel();
    if (this.settingsOpen) { this.drawSettings(); return; }
    if (this.current) this.show(this.current.id, this.current.annotation, { reposition: false, narration: this.current.narration && this.app.tours?.current ? this.app.text(this.app.tours.current.narration) : null });
  }

  place() {
    const viewer = this.app.viewer;
    if (!viewer) return;
    // the user camera carries the headset pose in XR (three copies it there every frame); the
    // XR ArrayCamera itself has no parent, so its world-matrix helpers would drop the rig
    const cam = viewer.camera;
    cam.updateMatrixWorld(true);
    const head = new THREE.Vector3().setFromMatrixPosition(cam.matrixWorld);
    const dir = new THREE.Vector3(0, 0, -1).applyQuaternion(cam.getWorldQuaternion(new THREE.Quaternion()));
    dir.y = 0;
    if (dir.lengthSq() < 1e-6) dir.set(0, 0, -1);
    dir.normalize();
    const right = new THREE.Vector3(-dir.z, 0, dir.x);
    this.mesh.position.copy(head).addScaledVector(dir, 1.1).addScaledVector(right, 0.3);
    this.mesh.position.y = head.y - 0.05;
    this.mesh.lookAt(head.x, this.mesh.position.y, head.z);
  }

  /** @param {import('./content.js').PanelContent} c */
  draw(c) {
    const g = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d')); // our canvases only ever get a 2D context
    const lang = c.lang;
    this.buttons = [];
    g.clearRect(0, 0, PX, PX);
    roundRect(g, 0, 0, PX, PX, 36, 'rgba(18,20,26,0.97)');
    let y = 90;
    g.fillStyle = '#fff';
    g.font = 'bold 60px sans-serif';
    y = wrap(g, c.title, 48, y, PX - 420, 68);
    this.button(g, PX - 130, 30, 100, 90, '×', { type: 'close' }, 64);
    const other = this.app.manifest.languages.find((l) => l !== lang) || lang;
    this.button(g, PX - 250, 30, 110, 90, other.toUpperCase(), { type: 'language', lang: other }, 40);
    if (this.app.xr) this.button(g, PX - 370, 30, 110, 90, '⚙', { type: 'settings' }, 48);
    g.font = '36px sans-serif';
    g.fillStyle = '#c9d1d9';
    for (const line of c.lines) y = wrap(g, line, 48, y + 10, PX - 96, 44);
    g.fillStyle = '#eef';
    g.font = '38px sans-serif';
    if (c.annotation) {
      g.font = 'bold 40px sans-serif';
      y = wrap(g, c.annotation.title, 48, y + 30, PX - 96, 48);
      g.font = '38px sans-serif';
      y = wrap(g, c.annotation.text || '', 48, y + 8, PX - 96, 48, 6);
    } else if (c.description) {
      y = wrap(g, c.description, 48, y + 30, PX - 96, 48, 7);
    }
    /** @type {string[]} */
    const figures = [];
    for (const v of c.live) {
      g.fillStyle = '#fff';
      g.font = 'bold 44px sans-serif';
      y = wrap(g, liveLabel(lang, v), 48, y + 40, PX - 96, 52);
      if (v.figure) {
        // the goal figure and how it is computed (smaller): the same text as the HTML panel
        g.fillStyle = '#bff5c8';
        g.font = 'bold 38px sans-serif';
        figures.push(figureLabel(lang, v.figure));
        y = wrap(g, figures[figures.length - 1], 48, y + 8, PX - 96, 46);
        g.fillStyle = '#aab';
        g.font = '28px sans-serif';
        y = wrap(g, `${t(lang, 'figure.how')} ${figureHow(lang, v.figure)}`, 48, y + 4, PX - 96, 34, 4);
        g.fillStyle = '#fff';
      }
      drawChart(g, v.series, 48, y + 16, PX - 96, 180, { max: v.kind === 'eye-tracking-screening' ? null : 100 });
      y += 210;
    }
    const tours = this.app.tours;
    if (this.current?.narration && tours?.current) {
      // a tour stop in VR: read aloud and (when this visitor steers the tour) next, by ray
      this.button(g, 48, y + 20, 300, 70, t(lang, 'speak') + (tours.speak ? ' ✓' : ''), { type: 'speak' }, 34);
      if (tours.canSteer() && tours.current.stop < tours.current.stops - 1) {
        this.button(g, 368, y + 20, 240, 70, t(lang, 'next'), { type: 'next' }, 34);
      }
      y += 100;
    }
    if (c.annotations.length) {
      g.fillStyle = '#9ecbff';
      g.font = 'bold 36px sans-serif';
      y = wrap(g, t(lang, 'annotations'), 48, y + 40, PX - 96, 44);
      for (const a of c.annotations.slice(0, 4)) {
        this.button(g, 48, y, PX - 96, 64, a.title, { type: 'annotation', id: a.id }, 34, 'left');
        y += 76;
      }
    }
    g.fillStyle = '#aab';
    g.font = '32px sans-serif';
    /** @type {string[]} */
    const credit = [];
    if (c.credit) credit.push(`${t(lang, 'credit')}: ${c.credit}`);
    if (c.licence) credit.push(`${t(lang, 'licence')}: ${c.licence}`);
    let cy = PX - 40 - 40 * (credit.length - 1);
    for (const line of credit) { g.fillText(fit(g, line, PX - 96), 48, cy); cy += 40; }
    this.texture.needsUpdate = true;
    viewerState.panel = { ...viewerState.panel, vrFigures: figures }; // what the canvas shows, for tests
  }

  /**
   * @param {CanvasRenderingContext2D} g
   * @param {number} x
   * @param {number} y
   * @param {number} w
   * @param {number} h
   * @param {string} label
   * @param {Action} action
   * @param {number} size font size, px
   * @param {CanvasTextAlign} [align]
   * @param {boolean} [chosen] the setting's current value: a lighter button
   */
  button(g, x, y, w, h, label, action, size, align = 'center', chosen = false) {
    roundRect(g, x, y, w, h, 14, chosen ? '#4d6a9c' : '#2f3b52');
    g.fillStyle = '#fff';
    g.font = `bold ${size}px sans-serif`;
    g.textBaseline = 'middle';
    g.textAlign = align;
    g.fillText(fit(g, label, w - 24), align === 'center' ? x + w / 2 : x + 20, y + h / 2 + 2);
    g.textAlign = 'left';
    g.textBaseline = 'alphabetic';
    this.buttons.push({ x, y, w, h, action });
  }

  /**
   * A ray hit on the panel: runs the button under it; returns true when the panel took the hit.
   * @param {THREE.Intersection | null | undefined} hit
   */
  handleHit(hit) {
    if (!hit || hit.object !== this.mesh || !hit.uv) return false;
    const x = hit.uv.x * PX;
    const y = (1 - hit.uv.y) * PX;
    const b = this.buttons.find((q) => x >= q.x && x <= q.x + q.w && y >= q.y && y <= q.y + q.h);
    viewerState.panel.lastHit = { x: Math.round(x), y: Math.round(y), button: b ? b.action.type : null };
    if (!b) return true;
    const id = this.current && this.current.id;
    const action = b.action;
    if (action.type === 'close') this.app.select(null, 'controller');
    else if (action.type === 'language') this.app.setLanguage(action.lang);
    else if (action.type === 'annotation' && id) this.app.select(id, 'controller', action.id);
    else if (action.type === 'speak') { this.app.tours?.toggleSpeech(); this.refresh(); }
    else if (action.type === 'next') this.app.tours?.next();
    else if (action.type === 'settings') this.toggleSettings();
    else if (action.type === 'reaction') viewerState.panel.lastReaction = this.app.reactions?.send(action.emoji) ? action.emoji : null;
    else if (action.type === 'setting' && this.app.xr) {
      this.app.xr.setComfort(action.key, /** @type {never} */ (action.value));
      this.drawSettings();
    }
    return true;
  }
}

/**
 * @param {CanvasRenderingContext2D} g
 * @param {number} x
 * @param {number} y
 * @param {number} w
 * @param {number} h
 * @param {number} r
 * @param {string} fill
 */
function roundRect(g, x, y, w, h, r, fill) {
  g.fillStyle = fill;
  g.beginPath();
  g.roundRect(x, y, w, h, r);
  g.fill();
}

/**
 * @param {CanvasRenderingContext2D} g
 * @param {string} text
 * @param {number} width
 */
function fit(g, text, width) {
  let s = String(text);
  while (s.length > 1 && g.measureText(s).width > width) s = `${s.slice(0, -2)}…`;
  return s;
}

/**
 * Word-wraps text from (x, y); returns the y after the last line.
 * @param {CanvasRenderingContext2D} g
 * @param {string} text
 * @param {number} x
 * @param {number} y
 * @param {number} width
 * @param {number} lineHeight
 */
function wrap(g, text, x, y, width, lineHeight, maxLines = 3) {
  const words = String(text || '').split(/\s+/).filter(Boolean);
  let line = '';
  let lines = 0;
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (g.measureText(next).width > width && line) {
      g.fillText(line, x, y);
      y += lineHeight;
      line = w;
      if (++lines >= maxLines - 1) { line = fit(g, words.slice(words.indexOf(w)).join(' '), width); break; }
    } else {
      line = next;
    }
  }
  if (line) { g.fillText(line, x, y); y += lineHeight; }
  return y;
}
