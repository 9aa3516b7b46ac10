// @ts-check
// Other visitors as simple avatars (a head, two hands, a name tag in their colour), eased towards
// the newest pose from the room's tick frames so that 20 Hz updates look smooth at 72-90 Hz.
import * as THREE from 'three';
import { viewerState, now } from './state.js';

const EASE_PER_SECOND = 14; // reaches ~90% of a new pose within one 20 Hz tick

/** @typedef {import('./posecodec.js').PartName} PartName */
/** @typedef {{id: number, name?: string, color?: string}} AvatarInfo */
/**
 * @typedef {{root: THREE.Group, parts: Record<PartName, THREE.Object3D>,
 *   targets: Partial<Record<PartName, {p: THREE.Vector3, q: THREE.Quaternion}>>, info: AvatarInfo,
 *   reaction?: {sprite: THREE.Sprite, emoji: string, until: number} | null}} Avatar
 */

export class Avatars {
  /** @param {import('./viewer.js').Viewer} viewer */
  constructor(viewer) {
    this.viewer = viewer;
    this.group = new THREE.Group();
    this.group.name = 'avatars';
    viewer.scene.add(this.group);
    /** @type {Map<number, Avatar>} */
    this.byId = new Map();
    viewer.onFrame((dt) => this.update(dt));
  }

  /** @param {AvatarInfo[]} visitors */
  reset(visitors = []) {
    for (const id of [...this.byId.keys()]) this.remove(id);
    for (const v of visitors) this.add(v);
  }

  /** @param {AvatarInfo} v */
  add(v) {
    if (this.byId.has(v.id)) this.remove(v.id);
    const color = new THREE.Color(/^#[0-9a-f]{6}$/i.test(v.color || '') ? v.color : '#88aaff');
    const mat = new THREE.MeshStandardMaterial({ color, roughness: 0.6 });
    const root = new THREE.Group();
    root.name = `avatar:${v.id}`;
    const head = new THREE.Group();
    const skull = new THREE.Mesh(new THREE.SphereGeometry(0.12, 16, 12), mat);
    const visor = new THREE.Mesh(new THREE.BoxGeometry(0.16, 0.06, 0.05), new THREE.MeshStandardMaterial({ color: 0x111111 }));
    visor.position.set(0, 0.01, -0.1);
    head.add(skull, visor);
    const tag = nameTag(v.name || 'Visitor', color);
    tag.position.set(0, 0.25, 0);
    head.add(tag);
    const hand = () => new THREE.Mesh(new THREE.BoxGeometry(0.06, 0.03, 0.1), mat);
    const parts = { head, left: hand(), right: hand() };
    for (const p of Object.values(parts)) { p.visible = false; root.add(p); }
    this.group.add(root);
    this.byId.set(v.id, { root, parts, targets: {}, info: v });
    this.count();
  }

  /**
   * A reaction above the avatar's name tag for `ms`; a newer one replaces it. False when
   * that visitor has no avatar here.
   * @param {number} id
   * @param {string} emoji
   * @param {number} ms
   */
  showReaction(id, emoji, ms) {
    const a = this.byId.get(id);
    if (!a) return false;
    this.clearReaction(a);
    const sprite = emojiSprite(emoji);
    sprite.name = 'reaction';
    sprite.position.set(0, 0.5, 0);
    a.parts.head.add(sprite);
    a.reaction = { sprite, emoji, until: now() + ms };
    return true;
  }

  /** @param {Avatar} a */
  clearReaction(a) {
    if (!a.reaction) return;
    const { sprite } = a.reaction;
    sprite.removeFromParent();
    sprite.material.map?.dispose();
    sprite.material.dispose();
    a.reaction = null;
  }

  /** @param {number} id */
  remove(id) {
    const a = this.byId.get(id);
    if (!a) return;
    this.clearReaction(a);
    this.group.remove(a.root);
    a.root.traverse((o) => {
      if (!(o instanceof THREE.Mesh || o instanceof THREE.Sprite)) return;
      o.geometry.dispose();
      o.material.map?.dispose();
      o.material.dispose();
    });
    this.byId.delete(id);
    delete viewerState.avatarPositions[id];
    this.count();
  }

  /**
   * One decoded state frame: Map(id -> {head?, left?, right?}), null = hide that part.
   * @param {Map<number, import('./posecodec.js').StateParts>} visitors
   */
  apply(visitors) {
    for (const [id, parts] of visitors) {
      if (!this.byId.has(id)) this.add({ id, name: `#${id}`, color: '#88aaff' });
      const a = /** @type {Avatar} */ (this.byId.get(id));
      for (const name of /** @type {PartName[]} */ (Object.keys(parts))) {
        const part = parts[name];
        if (part === undefined) continue;
        const node = a.parts[name];
        if (part === null) {
          node.visible = false;
          delete a.targets[name];
          continue;
        }
        const target = { p: new THREE.Vector3().fromArray(part.p), q: new THREE.Quaternion().fromArray(part.q) };
        if (!node.visible) { node.position.copy(target.p); node.quaternion.copy(target.q); }
        node.visible = true;
        a.targets[name] = target;
        if (name === 'head') viewerState.avatarPositions[id] = { x: part.p[0], y: part.p[1], z: part.p[2] };
      }
    }
    this.count();
  }

  /** @param {number} dt */
  update(dt) {
    const k = 1 - Math.exp(-EASE_PER_SECOND * dt);
    const t = now();
    for (const a of this.byId.values()) {
      if (a.reaction && t >= a.reaction.until) this.clearReaction(a);
      for (const name of /** @type {PartName[]} */ (Object.keys(a.targets))) {
        const target = a.targets[name];
        if (!target) continue;
        const node = a.parts[name];
        node.position.lerp(target.p, k);
        node.quaternion.slerp(target.q, k);
      }
    }
  }

  count() {
    viewerState.avatars = [...this.byId.values()].filter((a) => a.parts.head.visible).length;
    viewerState.avatarsKnown = this.byId.size;
  }
}

/**
 * @param {string} name
 * @param {THREE.Color} color
 */
function nameTag(name, color) {
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 64;
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d')); // our canvases only ever get a 2D context
  g.fillStyle = 'rgba(0,0,0,0.6)';
  g.beginPath();
  g.roundRect(0, 0, 256, 64, 16);
  g.fill();
  g.fillStyle = `#${color.getHexString()}`;
  g.fillRect(12, 20, 24, 24);
  g.fillStyle = '#fff';
  g.font = 'bold 34px sans-serif';
  g.textBaseline = 'middle';
  g.fillText(name.slice(0, 18), 48, 34);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: tex, depthTest: false }));
  sprite.scale.set(0.5, 0.125, 1);
  return sprite;
}

/**
 * An emoji on a transparent sprite, 0.3 m tall.
 * @param {string} emoji
 */
function emojiSprite(emoji) {
  const canvas = document.createElement('canvas');
  canvas.width = 128;
  canvas.height = 128;
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  g.font = '100px "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(emoji, 64, 70);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: tex, depthTest: false, transparent: true }));
  sprite.scale.set(0.3, 0.3, 1);
  sprite.renderOrder = 20;
  return sprite;
}
