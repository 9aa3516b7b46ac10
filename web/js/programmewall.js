// @ts-check
// The programme on a wall of the smart-city hall, for VR (and the desktop view): a canvas
// texture listing the projects of the goals chosen, with live-data dots, and one chip per goal.
// The chips are pickable: a ray or click on one selects PROGRAMME_ID with the chip's goal as the
// "annotation", which main.js hands to Programme.onWallHit.
import * as THREE from 'three';
import { t } from './i18n.js';
import { GOALS, PROGRAMME_ID } from './programme.js';

const W = 1536; // canvas px
const H = 1024;
const WIDTH = 2.4; // metres
const HEIGHT = WIDTH * H / W;
const CENTRE_Y = 1.6;
const CHIP = { x: 48, y: 130, w: 330, h: 80, gap: 24 };
const ROWS = 14;

/** @typedef {import('./programme.js').Programme} Programme */

/**
 * The far end wall of the smart-city hall (the one facing the entrance): position and yaw.
 * @param {import('./manifest.js').Manifest} manifest
 */
export function wallPose(manifest) {
  const hall = /** @type {{bounds: number[], kind?: string}[]} */ (manifest.rooms).find((r) => r.kind === 'smart-city');
  if (!hall) return null;
  const [x0, z0, x1, z1] = hall.bounds;
  const e = manifest.entrance?.position || [0, 0, 0];
  const cx = (x0 + x1) / 2;
  const cz = (z0 + z1) / 2;
  const inset = 0.05; // just off the wall
  if (Math.abs(cz - e[2]) >= Math.abs(cx - e[0])) {
    const far = cz < e[2] ? z0 + inset : z1 - inset;
    return { x: cx, z: far, yaw: cz < e[2] ? 0 : Math.PI };
  }
  const far = cx < e[0] ? x0 + inset : x1 - inset;
  return { x: far, z: cz, yaw: cx < e[0] ? -Math.PI / 2 : Math.PI / 2 };
}

export class ProgrammeWall {
  /**
   * @param {Programme} programme
   * @param {import('./viewer.js').Viewer} viewer
   */
  constructor(programme, viewer) {
    this.programme = programme;
    this.canvas = document.createElement('canvas');
    this.canvas.width = W;
    this.canvas.height = H;
    this.texture = new THREE.CanvasTexture(this.canvas);
    this.texture.colorSpace = THREE.SRGBColorSpace;
    this.group = new THREE.Group();
    this.group.name = 'programme-wall';
    this.group.userData.selectId = PROGRAMME_ID;
    const board = new THREE.Mesh(new THREE.PlaneGeometry(WIDTH, HEIGHT),
      new THREE.MeshBasicMaterial({ map: this.texture, toneMapped: false }));
    this.group.add(board);
    // one transparent hit plane over each chip, slightly in front of the board
    GOALS.forEach((goal, i) => {
      const x = CHIP.x + i * (CHIP.w + CHIP.gap);
      const hit = new THREE.Mesh(new THREE.PlaneGeometry(CHIP.w / W * WIDTH, CHIP.h / H * HEIGHT),
        // never drawn (an invisible material costs no draw call); rays still find it
        new THREE.MeshBasicMaterial({ visible: false }));
      hit.position.set(((x + CHIP.w / 2) / W - 0.5) * WIDTH, (0.5 - (CHIP.y + CHIP.h / 2) / H) * HEIGHT, 0.005);
      hit.userData.annotation = `goal:${goal}`;
      this.group.add(hit);
    });
    const pose = wallPose(viewer.manifest);
    if (!pose) return;
    this.group.position.set(pose.x, CENTRE_Y, pose.z);
    this.group.rotation.y = pose.yaw;
    viewer.scene.add(this.group);
    viewer.pickables.push(this.group);
    this.draw();
  }

  draw() {
    const g = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext('2d'));
    const p = this.programme;
    const lang = p.app.language;
    g.fillStyle = '#12141a';
    g.fillRect(0, 0, W, H);
    g.fillStyle = '#fff';
    g.font = 'bold 64px sans-serif';
    g.fillText(t(lang, 'programme'), 48, 90);
    GOALS.forEach((goal, i) => {
      const x = CHIP.x + i * (CHIP.w + CHIP.gap);
      g.fillStyle = p.goals.has(goal) ? '#49648f' : '#2a2f3a';
      g.fillRect(x, CHIP.y, CHIP.w, CHIP.h);
      g.fillStyle = '#fff';
      g.font = '40px sans-serif';
      g.fillText(t(lang, `goal.${goal}`), x + 24, CHIP.y + 54, CHIP.w - 48);
    });
    const shown = p.shown();
    g.fillStyle = '#c9d1d9';
    g.font = '36px sans-serif';
    g.fillText(`${shown.length} ${t(lang, 'of')} ${p.projects.length} ${t(lang, 'projects')}`, 48, 270);
    const columnWidth = (W - 96) / 2;
    shown.slice(0, ROWS * 2).forEach((project, i) => {
      const x = 48 + Math.floor(i / ROWS) * columnWidth;
      const y = 330 + (i % ROWS) * 48;
      if (p.isLive(project)) {
        g.fillStyle = '#3fbf6f';
        g.beginPath();
        g.arc(x + 12, y - 12, 10, 0, Math.PI * 2);
        g.fill();
      }
      g.fillStyle = '#fff';
      g.font = '34px sans-serif';
      g.fillText(p.app.text(project.title), x + 34, y, columnWidth - 60);
    });
    this.texture.needsUpdate = true;
  }
}
