// @ts-check
/**
 * The studio's floor plan: the exhibition's rooms seen from above, where a curator drags works
 * to place (paintings snap to the nearest wall), adds, sizes and orders rooms. Plain ES module,
 * SVG, no framework; fully usable with the keyboard; Swedish and English.
 *
 * The model is plain JSON and maps 1:1 onto collection.toml (docs/collection-format.md
 * "Placement"; vrculture/exhibition/floorplan.py makes it and writes it back):
 *   { version: 1, smart_city: bool,
 *     rooms: [{ id, title: {lang: text}, width, depth, height, sized }],   // in visiting order
 *     works: [{ id, title, room, kind: 'object'|'painting', footprint: [w, d], height, fixed,
 *               placement: { x, z, facing } | { wall, along, height } }] }
 * Coordinates are metres in the room's frame: origin mid-floor, x east, z south (toward the
 * entrance), so north is up on the plan. A work the curator moves becomes `fixed`; a room
 * resized or added becomes `sized`.
 *
 *   import { mountFloorPlan } from '/static/studio/floorplan.js';  // + floorplan.css
 *   const plan = mountFloorPlan(element, { layout, language: 'sv', onChange: (model) => … });
 *   plan.getModel(); plan.destroy();
 */

const SVG = 'http://www.w3.org/2000/svg';
const DOOR_W = 1.8; // as in vrculture/exhibition/layout.py
const DOOR_CLEAR = 0.1;
const PAINTING_DRAWN = 0.16; // a painting is drawn this deep, to be seen and grabbed
const WALL_DRAWN = 0.15; // walls are drawn outside the floor, as thick as the built ones
const MARGIN = 0.8; // metres of plan around the room
const WALLS = ['north', 'east', 'south', 'west'];
const MIN_SIZE = 2;
const MAX_SIZE = 200;

/** @typedef {{ x?: number, z?: number, facing?: number, wall?: string, along?: number, height?: number }} Placement */
/** @typedef {{ id: string, title: Record<string, string>, room: string, kind: 'object'|'painting', footprint: number[], height?: number, fixed: boolean, placement: Placement }} Work */
/** @typedef {{ id: string, title: Record<string, string>, width: number, depth: number, height: number, sized: boolean }} Room */
/** @typedef {{ version: number, smart_city?: boolean, rooms: Room[], works: Work[] }} Model */

const LABELS = {
  en: {
    rooms: 'Rooms', addRoom: 'Add room', earlier: 'Move {room} earlier', later: 'Move {room} later',
    width: 'Width (m)', depth: 'Depth (m)', plan: 'Floor plan of {room}', object: '3D object',
    painting: 'painting', wall: 'Wall', room: 'Room', entrance: 'Entrance', door: 'Door',
    north: 'north', east: 'east', south: 'south', west: 'west', work: 'Selected work',
    none: 'Select a work on the plan.', newRoom: 'New room {n}', fixed: 'placed by hand',
    auto: 'placed automatically', widthHandle: 'Width of {room}', depthHandle: 'Depth of {room}',
    placed: '{title}: x {x} m, z {z} m, facing {facing}°',
    hung: '{title}: on the {wall} wall, {along} m along it',
    resized: '{room}: {width} by {depth} m', order: '{room} is now room {n} of {total}',
    added: 'Added {room}', moved: '{title} moved to {room}',
    help: 'Drag a work with the pointer, or tab to it and move it with the arrow keys ' +
      '(10 cm; with Shift 1 cm). R turns a 3D object by 15° (Shift+R back); W moves a painting ' +
      'to the next wall. The size handles take arrow keys too.',
    alongOnly: '{title} hangs on a wall: the other arrow keys move it along the wall, W changes wall',
  },
  sv: {
    rooms: 'Salar', addRoom: 'Lägg till sal', earlier: 'Flytta {room} tidigare',
    later: 'Flytta {room} senare', width: 'Bredd (m)', depth: 'Djup (m)',
    plan: 'Planritning över {room}', object: '3D-föremål', painting: 'målning', wall: 'Vägg',
    room: 'Sal', entrance: 'Ingång', door: 'Dörr', north: 'norra', east: 'östra', south: 'södra',
    west: 'västra', work: 'Valt verk', none: 'Välj ett verk på planritningen.',
    newRoom: 'Ny sal {n}', fixed: 'placerat för hand', auto: 'placerat automatiskt',
    widthHandle: 'Bredd på {room}', depthHandle: 'Djup på {room}',
    placed: '{title}: x {x} m, z {z} m, vänt {facing}°',
    hung: '{title}: på {wall} väggen, {along} m längs den',
    resized: '{room}: {width} gånger {depth} m', order: '{room} är nu sal {n} av {total}',
    added: 'Lade till {room}', moved: '{title} flyttat till {room}',
    help: 'Dra ett verk med pekaren, eller tabba till det och flytta det med piltangenterna ' +
      '(10 cm; med Skift 1 cm). R vrider ett 3D-föremål 15° (Skift+R tillbaka); W flyttar en ' +
      'målning till nästa vägg. Storlekshandtagen tar också piltangenter.',
    alongOnly: '{title} hänger på en vägg: de andra piltangenterna flyttar den längs väggen, W byter vägg',
  },
};

/**
 * @param {string} template
 * @param {Record<string, string|number>} values
 */
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ''));
}

/**
 * @param {string} tag
 * @param {Record<string, string|number>} [attrs]
 * @param {string} [ns]
 */
function make(tag, attrs = {}, ns) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** @param {number} value @param {number} low @param {number} high */
function clamp(value, low, high) {
  return low > high ? (low + high) / 2 : Math.min(high, Math.max(low, value));
}

/** @param {number} value */
function round(value) {
  return Math.round(value * 1000) / 1000 + 0; // millimetres; no -0
}

/**
 * A 3D work's footprint turned by its facing: half its x and z extents.
 * @param {Work} work
 */
function extent(work) {
  const [w, d] = work.footprint;
  const angle = ((work.placement.facing ?? 0) * Math.PI) / 180;
  const c = Math.abs(Math.cos(angle));
  const s = Math.abs(Math.sin(angle));
  return { x: (c * w + s * d) / 2, z: (s * w + c * d) / 2 };
}

/**
 * Mount the editor in `element`.
 * @param {HTMLElement} element
 * @param {{ layout: Model, language?: string, onChange?: (model: Model) => void }} options
 */
export function mountFloorPlan(element, { layout, language = 'en', onChange = () => {} }) {
  /** @type {Model} */
  const model = structuredClone(layout);
  const lang = language.toLowerCase().startsWith('sv') ? 'sv' : 'en';
  const t = LABELS[lang];
  const numbers = new Intl.NumberFormat(lang === 'sv' ? 'sv-SE' : 'en-GB',
    { maximumFractionDigits: 2 });
  let roomIndex = 0;
  let selected = /** @type {string|null} */ (null);

  /** @param {Record<string, string>} text */
  const textOf = (text) => text[lang] ?? text.en ?? Object.values(text)[0] ?? '';
  const room = () => model.rooms[roomIndex];
  const workById = (/** @type {string} */ id) => model.works.find((w) => w.id === id);

  element.replaceChildren();
  element.classList.add('floorplan');
  const roomsPanel = make('section', { class: 'fp-rooms', 'aria-labelledby': 'fp-rooms-h' });
  const roomsHeading = make('h2', { id: 'fp-rooms-h' });
  roomsHeading.textContent = t.rooms;
  const roomList = make('ol', { class: 'fp-room-list' });
  const addRoom = make('button', { type: 'button', class: 'fp-add-room' });
  addRoom.textContent = t.addRoom;
  roomsPanel.append(roomsHeading, roomList, addRoom);

  const planPanel = make('section', { class: 'fp-plan-panel' });
  const sizes = make('div', { class: 'fp-sizes' });
  const widthInput = /** @type {HTMLInputElement} */ (make('input', {
    type: 'number', step: '0.1', min: MIN_SIZE, max: MAX_SIZE, class: 'fp-width' }));
  const depthInput = /** @type {HTMLInputElement} */ (make('input', {
    type: 'number', step: '0.1', min: MIN_SIZE, max: MAX_SIZE, class: 'fp-depth' }));
  const widthLabel = make('label');
  widthLabel.append(t.width, ' ', widthInput);
  const depthLabel = make('label');
  depthLabel.append(t.depth, ' ', depthInput);
  sizes.append(widthLabel, depthLabel);
  const help = make('p', { id: 'fp-help', class: 'fp-help' });
  help.textContent = t.help;
  const svg = /** @type {SVGSVGElement} */ (make('svg', {
    class: 'fp-plan', role: 'group', 'aria-describedby': 'fp-help',
    preserveAspectRatio: 'xMidYMid meet' }, SVG));
  planPanel.append(sizes, help, svg);

  const workPanel = make('section', { class: 'fp-work', 'aria-labelledby': 'fp-work-h' });
  const live = make('p', { class: 'fp-live', 'aria-live': 'polite', role: 'status' });
  element.append(roomsPanel, planPanel, workPanel, live);

  /** @param {string} message */
  function announce(message) {
    live.textContent = message;
  }

  function changed() {
    onChange(structuredClone(model));
  }

  /** @param {Work} work */
  function describe(work) {
    const p = work.placement;
    if (work.kind === 'painting') {
      return fill(t.hung, { title: textOf(work.title),
        wall: t[/** @type {'north'} */ (p.wall ?? 'north')], along: numbers.format(p.along ?? 0) });
    }
    return fill(t.placed, { title: textOf(work.title), x: numbers.format(p.x ?? 0),
      z: numbers.format(p.z ?? 0), facing: numbers.format(p.facing ?? 0) });
  }

  /** Doors of the selected room: toward the previous room (south) and the next (north). */
  function doors() {
    const last = roomIndex === model.rooms.length - 1;
    return { south: roomIndex > 0, north: !last || Boolean(model.smart_city) };
  }

  /**
   * Keep a work inside its room (and a painting off the doors).
   * @param {Work} work
   */
  function keepInside(work) {
    const r = model.rooms.find((candidate) => candidate.id === work.room) ?? room();
    const hw = r.width / 2;
    const hd = r.depth / 2;
    const p = work.placement;
    if (work.kind === 'painting') {
      const half = (work.footprint[0] ?? 0) / 2;
      const wallHalf = p.wall === 'west' || p.wall === 'east' ? hd : hw;
      let along = clamp(p.along ?? 0, -wallHalf + half, wallHalf - half);
      const door = doors();
      if ((p.wall === 'north' && door.north) || (p.wall === 'south' && door.south)) {
        const clear = DOOR_W / 2 + DOOR_CLEAR + half;
        if (Math.abs(along) < clear) along = (along < 0 ? -1 : 1) * clear;
      }
      p.along = round(along);
      return;
    }
    const e = extent(work);
    p.x = round(clamp(p.x ?? 0, -hw + e.x, hw - e.x));
    p.z = round(clamp(p.z ?? 0, -hd + e.z, hd - e.z));
  }

  /**
   * A painting hangs on the wall nearest the point (room frame), its middle across from it.
   * @param {Work} work @param {number} x @param {number} z
   */
  function snapToWall(work, x, z) {
    const hw = room().width / 2;
    const hd = room().depth / 2;
    const gaps = { west: x + hw, east: hw - x, north: z + hd, south: hd - z };
    const wall = /** @type {keyof typeof gaps} */ (Object.keys(gaps).reduce((a, b) =>
      gaps[/** @type {keyof typeof gaps} */ (a)] <= gaps[/** @type {keyof typeof gaps} */ (b)]
        ? a : b));
    work.placement = { wall, along: wall === 'west' || wall === 'east' ? z : x,
      ...(work.placement.height !== undefined ? { height: work.placement.height } : {}) };
    keepInside(work);
  }

  /**
   * Where a work is drawn: a transform and a rectangle, in metres.
   * @param {Work} work
   */
  function shape(work) {
    const [w, d] = work.footprint;
    const p = work.placement;
    if (work.kind === 'painting') {
      const hw = room().width / 2;
      const hd = room().depth / 2;
      const along = p.along ?? 0;
      const depth = Math.max(d, PAINTING_DRAWN);
      const rects = {
        north: [along - w / 2, -hd, w, depth], south: [along - w / 2, hd - depth, w, depth],
        west: [-hw, along - w / 2, depth, w], east: [hw - depth, along - w / 2, depth, w],
      };
      const [x, y, width, height] = rects[/** @type {'north'} */ (p.wall ?? 'north')];
      return { transform: '', x, y, width, height };
    }
    return { transform: `translate(${p.x ?? 0} ${p.z ?? 0}) rotate(${-(p.facing ?? 0)})`,
      x: -w / 2, y: -d / 2, width: w, height: d };
  }

  /**
   * Move a work's drawing to its placement (no re-render: a drag keeps its pointer capture).
   * @param {SVGGElement} node @param {Work} work
   */
  function position(node, work) {
    const s = shape(work);
    node.setAttribute('transform', s.transform);
    const rect = /** @type {SVGRectElement} */ (node.querySelector('.fp-footprint'));
    for (const key of /** @type {const} */ (['x', 'y', 'width', 'height'])) {
      rect.setAttribute(key, String(s[key]));
    }
    const front = node.querySelector('.fp-front');
    if (front && work.kind === 'object') {
      // the front is the work's local +Z: the lower edge before turning
      front.setAttribute('x1', String(-work.footprint[0] / 2));
      front.setAttribute('x2', String(work.footprint[0] / 2));
      front.setAttribute('y1', String(work.footprint[1] / 2));
      front.setAttribute('y2', String(work.footprint[1] / 2));
    }
    const label = node.querySelector('text');
    if (label) {
      // a painting's title stands in the room, off its wall
      const inward = { north: [0, 1], south: [0, -1], west: [1, 0], east: [-1, 0] }[
        /** @type {'north'} */ (work.placement.wall ?? 'north')];
      const cx = work.kind === 'painting' ? s.x + s.width / 2 + 0.45 * inward[0] : 0;
      const cy = work.kind === 'painting' ? s.y + s.height / 2 + 0.3 * inward[1] : 0;
      label.setAttribute('x', String(cx));
      label.setAttribute('y', String(cy));
      label.setAttribute('transform', work.kind === 'painting' ? ''
        : `rotate(${work.placement.facing ?? 0})`);
    }
    node.setAttribute('aria-label', `${describe(work)} (${work.kind === 'painting'
      ? t.painting : t.object}, ${work.fixed ? t.fixed : t.auto})`);
    node.classList.toggle('fp-fixed', work.fixed);
  }

  /**
   * Room-frame coordinates of a pointer event.
   * @param {PointerEvent} event
   */
  function toRoom(event) {
    const matrix = svg.getScreenCTM();
    if (!matrix) return { x: 0, z: 0 };
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return { x: point.x, z: point.y };
  }

  /** @param {string} [focusId] */
  function render(focusId) {
    renderRooms();
    const r = room();
    const hw = r.width / 2;
    const hd = r.depth / 2;
    widthInput.value = String(r.width);
    depthInput.value = String(r.depth);
    svg.setAttribute('viewBox', `${-hw - MARGIN} ${-hd - MARGIN} ${2 * hw + 2 * MARGIN} ` +
      `${2 * hd + 2 * MARGIN}`);
    svg.setAttribute('aria-label', fill(t.plan, { room: textOf(r.title) }));
    svg.replaceChildren();
    svg.append(make('rect', { class: 'fp-floor', x: -hw, y: -hd, width: 2 * hw,
      height: 2 * hd }, SVG));
    const door = doors();
    const o = WALL_DRAWN / 2; // wall lines run just outside the floor
    for (const [side, y] of /** @type {const} */ ([['north', -hd - o], ['south', hd + o]])) {
      if (door[side]) {
        svg.append(make('line', { class: 'fp-wall', x1: -hw - o, y1: y, x2: -DOOR_W / 2, y2: y },
          SVG), make('line', { class: 'fp-wall', x1: DOOR_W / 2, y1: y, x2: hw + o, y2: y }, SVG));
        const label = make('text', { class: 'fp-note', x: 0, y: y + (side === 'north' ? -0.2 : 0.45),
          'text-anchor': 'middle' }, SVG);
        label.textContent = t.door;
        svg.append(label);
      } else {
        svg.append(make('line', { class: 'fp-wall', x1: -hw - o, y1: y, x2: hw + o, y2: y }, SVG));
      }
    }
    svg.append(make('line', { class: 'fp-wall', x1: -hw - o, y1: -hd - o, x2: -hw - o,
      y2: hd + o }, SVG), make('line', { class: 'fp-wall', x1: hw + o, y1: -hd - o, x2: hw + o,
      y2: hd + o }, SVG));
    if (roomIndex === 0) {
      const label = make('text', { class: 'fp-note', x: 0, y: hd - 0.5, 'text-anchor': 'middle' },
        SVG);
      label.textContent = `↑ ${t.entrance}`;
      svg.append(label);
    }
    for (const work of model.works.filter((w) => w.room === r.id)) {
      const node = /** @type {SVGGElement} */ (make('g', { class: `fp-item fp-${work.kind}`,
        tabindex: 0, role: 'button', 'data-id': work.id, 'aria-describedby': 'fp-help' }, SVG));
      node.append(make('rect', { class: 'fp-footprint' }, SVG));
      if (work.kind === 'object') node.append(make('line', { class: 'fp-front' }, SVG));
      const label = make('text', { class: 'fp-label', 'text-anchor': 'middle',
        'dominant-baseline': 'middle', 'aria-hidden': 'true' }, SVG);
      label.textContent = textOf(work.title);
      node.append(label);
      position(node, work);
      bindWork(node, work);
      svg.append(node);
    }
    for (const [axis, cx, cy] of /** @type {const} */ ([['width', hw, 0], ['depth', 0, hd]])) {
      const handle = make('rect', { class: `fp-handle fp-handle-${axis}`, x: cx - 0.2,
        y: cy - 0.2, width: 0.4, height: 0.4, tabindex: 0, role: 'slider',
        'aria-valuemin': MIN_SIZE, 'aria-valuemax': MAX_SIZE, 'aria-valuenow': r[axis],
        'aria-label': fill(axis === 'width' ? t.widthHandle : t.depthHandle,
          { room: textOf(r.title) }) }, SVG);
      bindHandle(/** @type {SVGRectElement} */ (handle), axis);
      svg.append(handle);
    }
    renderWorkPanel();
    if (focusId) {
      const target = svg.querySelector(`[data-id="${CSS.escape(focusId)}"]`)
        ?? element.querySelector(`[data-focus="${CSS.escape(focusId)}"]`);
      if (target instanceof SVGElement || target instanceof HTMLElement) target.focus();
    }
  }

  function renderRooms() {
    roomList.replaceChildren();
    model.rooms.forEach((r, index) => {
      const item = make('li');
      const name = make('button', { type: 'button', class: 'fp-room-name',
        'aria-pressed': String(index === roomIndex), 'data-focus': `room:${r.id}` });
      name.textContent = textOf(r.title);
      name.addEventListener('click', () => {
        roomIndex = index;
        selected = null;
        render(`room:${r.id}`);
      });
      const up = make('button', { type: 'button', class: 'fp-earlier',
        'aria-label': fill(t.earlier, { room: textOf(r.title) }), 'data-focus': `up:${r.id}` });
      up.textContent = '↑';
      if (index === 0) up.setAttribute('disabled', '');
      const down = make('button', { type: 'button', class: 'fp-later',
        'aria-label': fill(t.later, { room: textOf(r.title) }), 'data-focus': `down:${r.id}` });
      down.textContent = '↓';
      if (index === model.rooms.length - 1) down.setAttribute('disabled', '');
      up.addEventListener('click', () => reorder(index, -1));
      down.addEventListener('click', () => reorder(index, 1));
      item.append(name, ' ', up, down);
      roomList.append(item);
    });
  }

  /** @param {number} index @param {number} step */
  function reorder(index, step) {
    const other = index + step;
    if (other < 0 || other >= model.rooms.length) return;
    const current = room();
    const [moved] = model.rooms.splice(index, 1);
    model.rooms.splice(other, 0, moved);
    roomIndex = model.rooms.indexOf(current);
    const focus = other === 0 || other === model.rooms.length - 1
      ? `room:${moved.id}` : `${step < 0 ? 'up' : 'down'}:${moved.id}`;
    render(focus);
    announce(fill(t.order, { room: textOf(moved.title), n: other + 1,
      total: model.rooms.length }));
    changed();
  }

  addRoom.addEventListener('click', () => {
    let n = model.rooms.length + 1;
    while (model.rooms.some((r) => r.id === `sal-${n}`)) n += 1;
    const title = { sv: fill(LABELS.sv.newRoom, { n }), en: fill(LABELS.en.newRoom, { n }) };
    model.rooms.push({ id: `sal-${n}`, title, width: 8, depth: 8, height: 3.5, sized: true });
    roomIndex = model.rooms.length - 1;
    selected = null;
    render(`room:sal-${n}`);
    announce(fill(t.added, { room: textOf(title) }));
    changed();
  });

  /** @param {'width'|'depth'} axis @param {number} value */
  function resize(axis, value) {
    const r = room();
    if (!Number.isFinite(value)) return;
    r[axis] = round(clamp(value, MIN_SIZE, MAX_SIZE));
    r.sized = true;
    for (const work of model.works) if (work.room === r.id && work.fixed) keepInside(work);
    announce(fill(t.resized, { room: textOf(r.title), width: numbers.format(r.width),
      depth: numbers.format(r.depth) }));
    changed();
  }

  widthInput.addEventListener('change', () => {
    resize('width', widthInput.valueAsNumber);
    render();
  });
  depthInput.addEventListener('change', () => {
    resize('depth', depthInput.valueAsNumber);
    render();
  });

  /** @param {SVGRectElement} handle @param {'width'|'depth'} axis */
  function bindHandle(handle, axis) {
    const focusId = `handle:${axis}`;
    handle.dataset.focus = focusId;
    handle.addEventListener('keydown', (event) => {
      const step = event.shiftKey ? 0.01 : 0.1;
      const grow = { ArrowRight: 1, ArrowDown: 1, ArrowUp: -1, ArrowLeft: -1 }[event.key];
      if (!grow) return;
      event.preventDefault();
      resize(axis, room()[axis] + 2 * grow * step);
      render(focusId);
    });
    handle.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      const move = (/** @type {PointerEvent} */ e) => {
        const p = toRoom(e);
        const value = 2 * Math.abs(axis === 'width' ? p.x : p.z);
        room()[axis] = round(clamp(value, MIN_SIZE, MAX_SIZE));
        handle.setAttribute(axis === 'width' ? 'x' : 'y', String(room()[axis] / 2 - 0.2));
      };
      const up = () => {
        handle.removeEventListener('pointermove', move);
        resize(axis, room()[axis]);
        render(focusId);
      };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', up, { once: true });
    });
  }

  /** @param {SVGGElement} node @param {Work} work */
  function bindWork(node, work) {
    node.addEventListener('focus', () => {
      if (selected !== work.id) {
        selected = work.id;
        renderWorkPanel();
      }
    });
    node.addEventListener('keydown', (event) => {
      const step = event.shiftKey ? 0.01 : 0.1;
      const p = work.placement;
      const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      const arrow = arrows[/** @type {keyof typeof arrows} */ (event.key)];
      if (arrow) {
        event.preventDefault();
        if (work.kind === 'painting') {
          const alongX = p.wall === 'north' || p.wall === 'south';
          const delta = alongX ? arrow[0] : arrow[1];
          if (!delta) {
            announce(fill(t.alongOnly, { title: textOf(work.title) }));
            return;
          }
          p.along = (p.along ?? 0) + delta * step;
        } else {
          p.x = (p.x ?? 0) + arrow[0] * step;
          p.z = (p.z ?? 0) + arrow[1] * step;
        }
      } else if ((event.key === 'r' || event.key === 'R') && work.kind === 'object') {
        event.preventDefault();
        const turn = event.shiftKey ? -15 : 15;
        p.facing = round((((p.facing ?? 0) + turn) % 360 + 360) % 360);
      } else if ((event.key === 'w' || event.key === 'W') && work.kind === 'painting') {
        event.preventDefault();
        const index = WALLS.indexOf(p.wall ?? 'north');
        p.wall = WALLS[(index + (event.shiftKey ? 3 : 1)) % 4];
        p.along = 0;
      } else {
        return;
      }
      commit(node, work);
    });
    node.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      node.focus();
      node.setPointerCapture(event.pointerId);
      const start = toRoom(event);
      const offset = work.kind === 'object'
        ? { x: (work.placement.x ?? 0) - start.x, z: (work.placement.z ?? 0) - start.z }
        : { x: 0, z: 0 };
      let moved = false;
      const move = (/** @type {PointerEvent} */ e) => {
        const p = toRoom(e);
        moved = true;
        if (work.kind === 'painting') {
          snapToWall(work, p.x, p.z);
        } else {
          work.placement.x = p.x + offset.x;
          work.placement.z = p.z + offset.z;
          keepInside(work);
        }
        position(node, work);
      };
      const up = () => {
        node.removeEventListener('pointermove', move);
        if (moved) commit(node, work);
      };
      node.addEventListener('pointermove', move);
      node.addEventListener('pointerup', up, { once: true });
    });
  }

  /** A work moved by hand: it is now fixed; keep it inside, redraw, say where it is.
   * @param {SVGGElement} node @param {Work} work */
  function commit(node, work) {
    work.fixed = true;
    keepInside(work);
    position(node, work);
    renderWorkPanel();
    announce(describe(work));
    changed();
  }

  function renderWorkPanel() {
    workPanel.replaceChildren();
    const heading = make('h2', { id: 'fp-work-h' });
    heading.textContent = t.work;
    workPanel.append(heading);
    const work = selected ? workById(selected) : undefined;
    if (!work) {
      const none = make('p');
      none.textContent = t.none;
      workPanel.append(none);
      return;
    }
    const summary = make('p', { class: 'fp-summary' });
    summary.textContent = `${describe(work)} (${work.fixed ? t.fixed : t.auto})`;
    workPanel.append(summary);
    const roomSelect = /** @type {HTMLSelectElement} */ (make('select', { class: 'fp-room-select',
      'data-focus': `roomselect:${work.id}` }));
    for (const r of model.rooms) {
      const option = /** @type {HTMLOptionElement} */ (make('option', { value: r.id }));
      option.textContent = textOf(r.title);
      option.selected = r.id === work.room;
      roomSelect.append(option);
    }
    const roomLabel = make('label');
    roomLabel.append(t.room, ' ', roomSelect);
    workPanel.append(roomLabel);
    roomSelect.addEventListener('change', () => {
      work.room = roomSelect.value;
      work.fixed = true;
      keepInside(work);
      roomIndex = model.rooms.findIndex((r) => r.id === work.room);
      announce(fill(t.moved, { title: textOf(work.title), room: textOf(room().title) }));
      changed();
      render(`roomselect:${work.id}`);
    });
    if (work.kind === 'painting') {
      const wallSelect = /** @type {HTMLSelectElement} */ (make('select', {
        class: 'fp-wall-select', 'data-focus': `wallselect:${work.id}` }));
      for (const wall of WALLS) {
        const option = /** @type {HTMLOptionElement} */ (make('option', { value: wall }));
        option.textContent = t[/** @type {'north'} */ (wall)];
        option.selected = wall === work.placement.wall;
        wallSelect.append(option);
      }
      const wallLabel = make('label');
      wallLabel.append(t.wall, ' ', wallSelect);
      workPanel.append(wallLabel);
      wallSelect.addEventListener('change', () => {
        work.placement.wall = wallSelect.value;
        work.placement.along = 0;
        const node = svg.querySelector(`[data-id="${CSS.escape(work.id)}"]`);
        if (node instanceof SVGGElement) commit(node, work);
        const again = workPanel.querySelector('.fp-wall-select');
        if (again instanceof HTMLElement) again.focus();
      });
    }
  }

  render();
  return {
    /** The current model (a copy). */
    getModel: () => structuredClone(model),
    destroy: () => {
      element.replaceChildren();
      element.classList.remove('floorplan');
    },
  };
}
