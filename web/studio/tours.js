// @ts-check
// Tours on the exhibition page: stops picked from the exhibition's objects and smart exhibits,
// narration per language (missing ones flagged), the order changed by dragging or from the
// keyboard (Move up / Move down, or Alt+Arrow on a stop; each move is announced), saved with
// the version read (If-Match). "Play" opens the public viewer on the tour (published version).
import { ApiError, call, loadSession } from './api.js';
import { el } from './forms.js';
import { addWords, t } from './i18n.js';
import { publicPath } from '../js/base.js';

addWords({
  en: {
    tours: 'Tours', newTour: 'New tour', tourId: 'Tour id (a-z, 0-9, - and _)', makeTour: 'Make tour',
    tourHeading: 'Tour {id}', tourTitle: 'Name of the tour', stops: 'Stops', stopHeading: 'Stop {n}: {name}',
    narration: 'Narration', addStop: 'Add a stop', addStopButton: 'Add stop', moveUp: 'Move up',
    moveDown: 'Move down', removeStop: 'Remove stop', saveTour: 'Save tour', deleteTour: 'Delete tour',
    playTour: 'Play (published version)', notSavedYet: 'not saved yet', noTours: 'No tours yet.',
    playNote: 'Play opens the visitors’ viewer on the last published version: publish to hear your changes.',
    moved: '{name} moved to position {n} of {total}.', stopAdded: '{name} added as stop {n}.',
    stopRemoved: '{name} removed.', confirmDeleteTour: 'Delete the tour {id}?', tourSaved: 'Tour saved.', tourDeleted: 'Tour deleted.',
    handWritten: 'This tour has stops at positions written in collection.toml; edit it there.',
    stopsHelp: 'Drag a stop, or use Move up / Move down (Alt+Arrow keys), to change the order.',
    'action.create_tour': 'made tour {tour}', 'action.edit_tour': 'edited tour {tour}',
    'action.delete_tour': 'deleted tour {tour}',
  },
  sv: {
    tours: 'Visningar', newTour: 'Ny visning', tourId: 'Visningens id (a-z, 0-9, - och _)',
    makeTour: 'Gör visning', tourHeading: 'Visning {id}', tourTitle: 'Visningens namn', stops: 'Stopp',
    stopHeading: 'Stopp {n}: {name}', narration: 'Berättelse', addStop: 'Lägg till ett stopp',
    addStopButton: 'Lägg till stopp', moveUp: 'Flytta upp', moveDown: 'Flytta ned', removeStop: 'Ta bort stopp',
    saveTour: 'Spara visning', deleteTour: 'Ta bort visning', playTour: 'Spela upp (publicerad version)',
    notSavedYet: 'inte sparad ännu', noTours: 'Inga visningar ännu.',
    playNote: 'Spela upp öppnar besökarnas visare på den senast publicerade versionen: publicera för att höra dina ändringar.',
    moved: '{name} flyttad till plats {n} av {total}.', stopAdded: '{name} tillagd som stopp {n}.',
    stopRemoved: '{name} borttagen.', confirmDeleteTour: 'Ta bort visningen {id}?', tourSaved: 'Visningen är sparad.', tourDeleted: 'Visningen är borttagen.',
    handWritten: 'Visningen har stopp på platser som skrivits i collection.toml; ändra den där.',
    stopsHelp: 'Dra ett stopp, eller använd Flytta upp / Flytta ned (Alt+piltangenter), för att ändra ordningen.',
    'action.create_tour': 'gjorde visningen {tour}', 'action.edit_tour': 'ändrade visningen {tour}',
    'action.delete_tour': 'tog bort visningen {tour}',
  },
});

const exhibitionId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const panel = /** @type {HTMLElement} */ (document.getElementById('tours-panel'));
/** @type {any} */
let state = null;
let version = '';
/** @type {{ id: string, title: Record<string, string>, stops: { object: string, narration: Record<string, string> }[], draft?: boolean, dirty?: boolean, editable: boolean }[]} */
let tours = [];
const live = el('p', { id: 'tours-live', class: 'visually-hidden', 'aria-live': 'polite' });
const statusBox = el('p', { id: 'tours-status', class: 'status', role: 'status' });
const errorBox = el('p', { id: 'tours-error', class: 'error', role: 'alert' });

/** @param {string} objectId */
function nameOf(objectId) {
  const target = state?.targets.find((/** @type {any} */ x) => x.id === objectId);
  const lang = document.documentElement.lang;
  return target ? (target.title[lang] || target.title[state.default_language] || objectId) : objectId;
}

/** @param {string} etag */
function setVersion(etag) {
  version = etag;
  document.dispatchEvent(new CustomEvent('studio:version', { detail: etag, bubbles: false }));
}

document.addEventListener('studio:version', (event) => {
  version = /** @type {CustomEvent<string>} */ (event).detail;
});

async function load() {
  const { data, etag } = await call('GET', `exhibitions/${exhibitionId}/tours`);
  accept(data, etag ?? data.version, false);
}

/**
 * Show the server's tours; a tour with unsaved edits (other than the one just saved) keeps them.
 * @param {any} data @param {string} etag @param {boolean} broadcast @param {string} [saved]
 */
function accept(data, etag, broadcast, saved) {
  state = data;
  const kept = new Map(tours.filter((tour) => (tour.dirty || tour.draft) && tour.id !== saved)
    .map((tour) => [tour.id, tour]));
  const fromServer = data.tours.map((/** @type {any} */ tour) => kept.get(tour.id) ?? {
    id: tour.id, title: { ...tour.title }, editable: tour.editable,
    stops: tour.stops.map((/** @type {any} */ s) => ({ object: s.object ?? '', narration: { ...s.narration } })),
  });
  tours = fromServer.concat([...kept.values()].filter((tour) => tour.draft && !fromServer.includes(tour)));
  if (broadcast) setVersion(etag); else version = etag;
  render();
}

/** @param {string} message */
function announce(message) {
  live.textContent = '';
  // a fresh text node each time, so that the same words twice are read twice
  requestAnimationFrame(() => { live.textContent = message; });
}

function render() {
  if (!state) return;
  panel.replaceChildren(el('h2', { id: 'tours-heading' }, t('tours')), live, statusBox, errorBox,
    el('p', { class: 'status' }, t('playNote')));
  if (!tours.length) panel.append(el('p', {}, t('noTours')));
  tours.forEach((tour) => panel.append(tourForm(tour)));
  panel.append(newTourForm());
}

/** @param {typeof tours[number]} tour */
function tourForm(tour) {
  const prefix = `tour-${tour.id}`;
  const form = el('form', { 'aria-labelledby': `${prefix}-legend`, class: 'tour', 'data-tour': tour.id });
  form.noValidate = true;
  const set = el('fieldset');
  const legend = el('legend', { id: `${prefix}-legend` }, t('tourHeading', { id: tour.id }));
  if (tour.draft) legend.append(el('span', { class: 'missing' }, t('notSavedYet')));
  set.append(legend);
  if (!tour.editable) {
    set.append(el('p', {}, t('handWritten')));
    form.append(set);
    return form;
  }
  for (const lang of state.languages) {
    set.append(textInput(`${prefix}-title-${lang}`, `${t('tourTitle')} (${lang})`, lang, tour.title, 'input', 200));
  }
  set.append(el('h3', { id: `${prefix}-stops-heading` }, t('stops')));
  set.append(el('p', { class: 'status', id: `${prefix}-help` }, t('stopsHelp')));
  const list = el('ol', { class: 'stops', 'aria-labelledby': `${prefix}-stops-heading`, 'aria-describedby': `${prefix}-help` });
  tour.stops.forEach((stop, position) => list.append(stopItem(tour, stop, position)));
  set.append(list);
  set.append(addStopControls(tour, prefix));
  const actions = el('p', { class: 'actions' });
  actions.append(el('button', { type: 'submit' }, t('saveTour')));
  if (!tour.draft) {
    const play = el('a', { href: publicPath(`exhibitions/${encodeURIComponent(exhibitionId)}?tour=${encodeURIComponent(tour.id)}`),
      target: '_blank', rel: 'noopener', class: 'play' }, t('playTour'));
    const remove = el('button', { type: 'button' }, t('deleteTour'));
    remove.addEventListener('click', () => void deleteTour(tour));
    actions.append(' ', play, ' ', remove);
  }
  set.append(actions);
  form.append(set);
  form.addEventListener('input', () => { tour.dirty = true; });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void saveTour(tour);
  });
  return form;
}

/**
 * @param {string} id @param {string} label @param {string} lang
 * @param {Record<string, string>} values @param {'input' | 'textarea'} tag @param {number} max
 * @param {boolean} [flagMissing]
 */
function textInput(id, label, lang, values, tag, max, flagMissing = true) {
  const p = el('p');
  const labelEl = el('label', { for: id }, label);
  const input = el(tag, { id, lang, maxlength: String(max) });
  input.value = values[lang] ?? '';
  const flag = el('span', { class: 'missing', id: `${id}-missing` }, t('missing'));
  const showFlag = () => {
    flag.hidden = !flagMissing || Boolean(input.value.trim());
    if (flag.hidden) input.removeAttribute('aria-describedby'); else input.setAttribute('aria-describedby', `${id}-missing`);
  };
  input.addEventListener('input', () => {
    values[lang] = input.value;
    showFlag();
  });
  showFlag();
  labelEl.append(flag);
  p.append(labelEl, input);
  return p;
}

/** @param {typeof tours[number]} tour @param {{ object: string, narration: Record<string, string> }} stop @param {number} position */
function stopItem(tour, stop, position) {
  const prefix = `tour-${tour.id}-stop-${position}`;
  const item = el('li', { draggable: 'true', class: 'stop', 'data-object': stop.object });
  const heading = el('h4', { id: `${prefix}-heading` },
    t('stopHeading', { n: String(position + 1), name: nameOf(stop.object) }));
  item.setAttribute('aria-labelledby', `${prefix}-heading`);
  item.append(heading);
  for (const lang of state.languages) {
    item.append(textInput(`${prefix}-narration-${lang}`, `${t('narration')} (${lang})`, lang, stop.narration,
      'textarea', 4000));
  }
  const buttons = el('p', { class: 'actions' });
  const up = el('button', { type: 'button', 'data-move': 'up', 'aria-describedby': `${prefix}-heading` }, t('moveUp'));
  const down = el('button', { type: 'button', 'data-move': 'down', 'aria-describedby': `${prefix}-heading` }, t('moveDown'));
  const remove = el('button', { type: 'button', 'aria-describedby': `${prefix}-heading` }, t('removeStop'));
  up.disabled = position === 0;
  down.disabled = position === tour.stops.length - 1;
  up.addEventListener('click', () => move(tour, position, position - 1, 'up'));
  down.addEventListener('click', () => move(tour, position, position + 1, 'down'));
  remove.addEventListener('click', () => {
    const [gone] = tour.stops.splice(position, 1);
    rerender(tour, null);
    announce(t('stopRemoved', { name: nameOf(gone.object) }));
  });
  buttons.append(up, ' ', down, ' ', remove);
  item.append(buttons);
  item.addEventListener('keydown', (event) => {
    if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
    event.preventDefault();
    move(tour, position, position + (event.key === 'ArrowUp' ? -1 : 1), event.key === 'ArrowUp' ? 'up' : 'down');
  });
  item.addEventListener('dragstart', (event) => {
    event.dataTransfer?.setData('text/plain', `${tour.id}:${position}`);
    item.classList.add('dragging');
  });
  item.addEventListener('dragend', () => item.classList.remove('dragging'));
  item.addEventListener('dragover', (event) => event.preventDefault());
  item.addEventListener('drop', (event) => {
    event.preventDefault();
    const [tourId, from] = (event.dataTransfer?.getData('text/plain') ?? '').split(':');
    if (tourId === tour.id && from !== undefined) move(tour, Number(from), position, null);
  });
  return item;
}

/**
 * @param {typeof tours[number]} tour @param {number} from @param {number} to
 * @param {'up' | 'down' | null} direction the button to focus again (keyboard moves)
 */
function move(tour, from, to, direction) {
  if (to < 0 || to >= tour.stops.length || from === to || !tour.stops[from]) return;
  const [stop] = tour.stops.splice(from, 1);
  tour.stops.splice(to, 0, stop);
  const edge = (direction === 'up' && to === 0) || (direction === 'down' && to === tour.stops.length - 1);
  rerender(tour, direction ? { position: to, move: edge ? (direction === 'up' ? 'down' : 'up') : direction } : null);
  announce(t('moved', { name: nameOf(stop.object), n: String(to + 1), total: String(tour.stops.length) }));
}

/** Render one tour again, focus kept on the moved stop's button.
 * @param {typeof tours[number]} tour @param {{ position: number, move: string } | null} focus */
function rerender(tour, focus) {
  tour.dirty = true;
  const old = panel.querySelector(`form[data-tour="${CSS.escape(tour.id)}"]`);
  const fresh = tourForm(tour);
  old?.replaceWith(fresh);
  if (focus) {
    const items = fresh.querySelectorAll('li.stop');
    /** @type {HTMLButtonElement | null} */ (items[focus.position]?.querySelector(`[data-move="${focus.move}"]`))?.focus();
  }
}

/** @param {typeof tours[number]} tour @param {string} prefix */
function addStopControls(tour, prefix) {
  const p = el('p', { class: 'add-stop' });
  const selectId = `${prefix}-add-stop`;
  const select = el('select', { id: selectId });
  for (const target of state.targets) {
    select.append(el('option', { value: target.id }, `${nameOf(target.id)} (${target.id})`));
  }
  const button = el('button', { type: 'button' }, t('addStopButton'));
  button.disabled = !state.targets.length;
  button.addEventListener('click', () => {
    tour.stops.push({ object: select.value, narration: {} });
    rerender(tour, null);
    announce(t('stopAdded', { name: nameOf(select.value), n: String(tour.stops.length) }));
    /** @type {HTMLElement | null} */ (document.getElementById(`tour-${tour.id}-stop-${tour.stops.length - 1}-narration-${state.default_language}`))?.focus();
  });
  p.append(el('label', { for: selectId }, t('addStop')), select, ' ', button);
  return p;
}

function newTourForm() {
  const form = el('form', { 'aria-labelledby': 'new-tour-heading' });
  form.noValidate = true;
  form.append(el('h3', { id: 'new-tour-heading' }, t('newTour')));
  const p = el('p');
  const input = el('input', { id: 'new-tour-id', required: '', maxlength: '64', pattern: '[a-z0-9][a-z0-9_-]{0,63}', autocomplete: 'off' });
  p.append(el('label', { for: 'new-tour-id' }, t('tourId')), input, ' ', el('button', { type: 'submit' }, t('makeTour')));
  form.append(p);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const tourId = input.value.trim();
    errorBox.textContent = '';
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(tourId) || tours.some((x) => x.id === tourId)) {
      errorBox.textContent = t('error', { message: t('tourId') });
      input.focus();
      return;
    }
    tours.push({ id: tourId, title: {}, stops: [], draft: true, editable: true });
    render();
    /** @type {HTMLElement | null} */ (document.getElementById(`tour-${tourId}-title-${state.default_language}`))?.focus();
  });
  return form;
}

/** @param {Record<string, string>} texts */
function clean(texts) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [lang, text] of Object.entries(texts)) if (text.trim()) out[lang] = text.trim();
  return out;
}

/** @param {typeof tours[number]} tour */
async function saveTour(tour) {
  statusBox.textContent = '';
  errorBox.textContent = '';
  const body = { title: clean(tour.title), stops: tour.stops.map((s) => ({ object: s.object, narration: clean(s.narration) })) };
  try {
    const { data, etag } = tour.draft
      ? await call('POST', `exhibitions/${exhibitionId}/tours`, { body: { id: tour.id, ...body }, ifMatch: version })
      : await call('PUT', `exhibitions/${exhibitionId}/tours/${tour.id}`, { body, ifMatch: version });
    tour.draft = false;
    tour.dirty = false;
    accept(data, etag ?? data.version, true, tour.id);
    statusBox.textContent = t('tourSaved');
    /** @type {HTMLElement | null} */ (panel.querySelector(`form[data-tour="${CSS.escape(tour.id)}"] button[type="submit"]`))?.focus();
  } catch (e) {
    await failed(e);
  }
}

/** @param {typeof tours[number]} tour */
async function deleteTour(tour) {
  if (!confirm(t('confirmDeleteTour', { id: tour.id }))) return;
  statusBox.textContent = '';
  errorBox.textContent = '';
  try {
    const { data, etag } = await call('DELETE', `exhibitions/${exhibitionId}/tours/${tour.id}`, { ifMatch: version });
    tours = tours.filter((x) => x !== tour);
    accept(data, etag ?? data.version, true, tour.id);
    statusBox.textContent = t('tourDeleted');
  } catch (e) {
    await failed(e);
  }
}

/** @param {unknown} e */
async function failed(e) {
  if (e instanceof ApiError && e.status === 409) {
    errorBox.textContent = t('conflict', { message: e.message });
    for (const tour of tours) tour.dirty = false; // their change shown; a new tour not saved stays
    await load();
  } else {
    errorBox.textContent = t('error', { message: String(/** @type {Error} */ (e).message) });
  }
}

// after i18n.js has stored the choice (listeners run in any order)
document.getElementById('ui-lang')?.addEventListener('change', () => setTimeout(render, 0));
if (await loadSession()) {
  try {
    await load();
  } catch (e) {
    panel.append(el('p', { class: 'error', role: 'alert' }, t('error', { message: String(/** @type {Error} */ (e).message) })));
  }
}
