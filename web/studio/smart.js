// @ts-check
// Smart exhibits on the exhibition page: add one of the kinds the builder knows; its feed's
// token is shown once, with a copy button (the server keeps only its hash); the newest readings
// of each exhibit refresh every few seconds while the page is open.
import { ApiError, call, loadSession } from './api.js';
import { el } from './forms.js';
import { addWords, t } from './i18n.js';

addWords({
  en: {
    smartExhibits: 'Smart exhibits', noSmart: 'No smart exhibits yet.', addSmart: 'Add a smart exhibit',
    smartId: 'Exhibit id (a-z, 0-9, - and _)', smartName: 'Name of the exhibit', kind: 'Kind', goal: 'Goal', feedId: 'Feed id (empty: the same as the id)',
    'kind.street-lighting': 'Street lighting', 'kind.smart-bin': 'Smart bins',
    'kind.eye-tracking-screening': 'Eye-tracking screening', 'kind.gauge': 'Gauge',
    'goal.climate': 'Climate', 'goal.economic': 'Economic', 'goal.social': 'Social', 'goal.democratic': 'Democratic',
    unit: 'Unit', min: 'Lowest value', max: 'Highest value', addSmartButton: 'Add and create its feed',
    tokenHeading: 'The token of feed {feed}', copy: 'Copy token', copied: 'Copied.',
    tokenOnce: 'Copy this token now and give it to the sensor’s operator: you will not see it again. It is stored only as a hash.',
    hideToken: 'I have copied it', latestReadings: 'Latest readings', noReadings: 'No readings yet.',
    confirmRemove: 'Remove {id} and its feed? A sensor using its token will be refused.',
    feed: 'Feed', removeSmart: 'Remove {id}', smartRemoved: '{id} removed.', smartAdded: '{id} added.',
    smartHeading: '{title} ({kind})', readingAt: 'Time', reading: 'Reading',
    'action.add_smart_exhibit': 'added smart exhibit {id}', 'action.remove_smart_exhibit': 'removed smart exhibit {smart}',
  },
  sv: {
    smartExhibits: 'Smarta utställningsföremål', noSmart: 'Inga smarta föremål ännu.',
    addSmart: 'Lägg till ett smart föremål', smartId: 'Föremålets id (a-z, 0-9, - och _)', smartName: 'Föremålets namn', kind: 'Sort', goal: 'Mål',
    feedId: 'Flödets id (tomt: samma som id)', 'kind.street-lighting': 'Gatubelysning',
    'kind.smart-bin': 'Smarta papperskorgar', 'kind.eye-tracking-screening': 'Screening med ögonrörelser',
    'kind.gauge': 'Mätare', 'goal.climate': 'Klimat', 'goal.economic': 'Ekonomi', 'goal.social': 'Socialt',
    'goal.democratic': 'Demokrati', unit: 'Enhet', min: 'Lägsta värde', max: 'Högsta värde',
    addSmartButton: 'Lägg till och skapa dess flöde', tokenHeading: 'Nyckeln till flödet {feed}',
    copy: 'Kopiera nyckeln', copied: 'Kopierad.',
    tokenOnce: 'Kopiera nyckeln nu och ge den till den som sköter sensorn: du kommer inte att se den igen. Den sparas bara som en hash.',
    hideToken: 'Jag har kopierat den', latestReadings: 'Senaste mätvärden', noReadings: 'Inga mätvärden ännu.',
    confirmRemove: 'Ta bort {id} och dess flöde? En sensor som använder nyckeln kommer att nekas.',
    feed: 'Flöde', removeSmart: 'Ta bort {id}', smartRemoved: '{id} är borttaget.', smartAdded: '{id} är tillagt.',
    smartHeading: '{title} ({kind})', readingAt: 'Tid', reading: 'Mätvärde',
    'action.add_smart_exhibit': 'lade till det smarta föremålet {id}',
    'action.remove_smart_exhibit': 'tog bort det smarta föremålet {smart}',
  },
});

const POLL_MS = 5000; // readings arrive every few seconds to minutes: often enough to see them
const exhibitionId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const panel = /** @type {HTMLElement} */ (document.getElementById('smart-panel'));
/** @type {any} */
let state = null;
let version = '';
/** @type {Record<string, any>} readings per exhibit id, as last fetched */
const readings = {};
const statusBox = el('p', { id: 'smart-status', class: 'status', role: 'status' });
const errorBox = el('p', { id: 'smart-error', class: 'error', role: 'alert' });
const tokenBox = el('div', { id: 'smart-token', class: 'token' });

document.addEventListener('studio:version', (event) => {
  version = /** @type {CustomEvent<string>} */ (event).detail;
});

/** @param {string} etag */
function setVersion(etag) {
  version = etag;
  document.dispatchEvent(new CustomEvent('studio:version', { detail: etag }));
}

async function load() {
  const { data, etag } = await call('GET', `exhibitions/${exhibitionId}/smart`);
  state = data;
  version = etag ?? data.version;
  render();
}

/** @param {Record<string, string>} texts */
function text(texts) {
  return texts[document.documentElement.lang] || texts[state.default_language] || Object.values(texts)[0] || '';
}

function render() {
  if (!state) return;
  panel.replaceChildren(el('h2', { id: 'smart-heading', tabindex: '-1' }, t('smartExhibits')), statusBox, errorBox, tokenBox);
  if (!state.smart_exhibits.length) panel.append(el('p', {}, t('noSmart')));
  for (const exhibit of state.smart_exhibits) panel.append(exhibitView(exhibit));
  panel.append(addForm());
}

/** @param {any} exhibit */
function exhibitView(exhibit) {
  const section = el('section', { class: 'smart', 'aria-labelledby': `smart-${exhibit.id}-heading` });
  section.append(el('h3', { id: `smart-${exhibit.id}-heading` },
    t('smartHeading', { title: text(exhibit.title) || exhibit.id, kind: t(`kind.${exhibit.kind}`) })));
  section.append(el('p', {}, `${t('feed')}: ${exhibit.feeds.join(', ')} · ${t('goal')}: ${t(`goal.${exhibit.goal}`)}`));
  const table = el('table', { id: `smart-${exhibit.id}-readings` });
  table.append(el('caption', {}, t('latestReadings')));
  const head = el('tr');
  head.append(el('th', { scope: 'col' }, t('feed')), el('th', { scope: 'col' }, t('readingAt')),
    el('th', { scope: 'col' }, t('reading')));
  table.append(el('thead'), el('tbody'));
  /** @type {HTMLElement} */ (table.querySelector('thead')).append(head);
  section.append(table);
  fillReadings(exhibit.id);
  const remove = el('button', { type: 'button' }, t('removeSmart', { id: exhibit.id }));
  remove.addEventListener('click', () => void removeExhibit(exhibit.id));
  const actions = el('p');
  actions.append(remove);
  section.append(actions);
  return section;
}

/** @param {string} smartId */
function fillReadings(smartId) {
  const body = document.querySelector(`#smart-${CSS.escape(smartId)}-readings tbody`)
    ?? panel.querySelector(`#smart-${CSS.escape(smartId)}-readings tbody`);
  if (!body) return;
  const feeds = readings[smartId]?.feeds ?? {};
  const rows = [];
  for (const [feed, entry] of Object.entries(feeds)) {
    for (const reading of [.../** @type {any} */ (entry).readings].reverse()) {
      const { t: at, ...values } = reading;
      const row = el('tr');
      row.append(el('td', {}, feed), el('td', {}, String(at)),
        el('td', {}, Object.entries(values).map(([k, v]) => `${k}: ${v}`).join(', ')));
      rows.push(row);
    }
  }
  if (!rows.length) {
    const row = el('tr');
    row.append(el('td', { colspan: '3' }, t('noReadings')));
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

async function poll() {
  if (!state || document.hidden) return;
  for (const exhibit of state.smart_exhibits) {
    try {
      const { data } = await call('GET', `exhibitions/${exhibitionId}/smart/${exhibit.id}/readings`);
      readings[exhibit.id] = data;
      fillReadings(exhibit.id);
    } catch {
      // the next poll tries again; a 401 has already sent the page to the sign-in
    }
  }
}

function addForm() {
  const form = el('form', { id: 'smart-form', 'aria-labelledby': 'smart-add-heading' });
  form.noValidate = true;
  form.append(el('h3', { id: 'smart-add-heading' }, t('addSmart')));
  /** @param {string} id @param {string} label @param {HTMLElement} control */
  const row = (id, label, control) => {
    const p = el('p');
    control.id = id;
    p.append(el('label', { for: id }, label), control);
    form.append(p);
    return control;
  };
  const kind = /** @type {HTMLSelectElement} */ (row('smart-kind', t('kind'), el('select')));
  for (const k of state.kinds) kind.append(el('option', { value: k }, t(`kind.${k}`)));
  const goal = /** @type {HTMLSelectElement} */ (row('smart-goal', t('goal'), el('select')));
  for (const g of state.goals) goal.append(el('option', { value: g }, t(`goal.${g}`)));
  const idInput = /** @type {HTMLInputElement} */ (row('smart-id', t('smartId'),
    el('input', { required: '', maxlength: '64', autocomplete: 'off' })));
  for (const lang of state.languages) {
    row(`smart-title-${lang}`, `${t('smartName')} (${lang})`, el('input', { maxlength: '200', lang }));
  }
  const feed = /** @type {HTMLInputElement} */ (row('smart-feed', t('feedId'), el('input', { maxlength: '64', autocomplete: 'off' })));
  const gauge = el('fieldset', { id: 'smart-gauge' });
  gauge.append(el('legend', {}, t('kind.gauge')));
  form.append(gauge);
  for (const [key, type] of [['unit', 'text'], ['min', 'number'], ['max', 'number']]) {
    const p = el('p');
    const input = el('input', { id: `smart-gauge-${key}`, type, maxlength: '32', step: 'any' });
    p.append(el('label', { for: `smart-gauge-${key}` }, t(key)), input);
    gauge.append(p);
  }
  const showGauge = () => { gauge.hidden = kind.value !== 'gauge'; };
  kind.addEventListener('change', showGauge);
  showGauge();
  const actions = el('p');
  actions.append(el('button', { type: 'submit' }, t('addSmartButton')));
  form.append(actions);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    /** @type {Record<string, any>} */
    const body = { id: idInput.value.trim(), kind: kind.value, goal: goal.value, title: {} };
    for (const lang of state.languages) {
      const value = /** @type {HTMLInputElement} */ (document.getElementById(`smart-title-${lang}`)).value.trim();
      if (value) body.title[lang] = value;
    }
    if (feed.value.trim()) body.feed = feed.value.trim();
    if (kind.value === 'gauge') {
      const value = (/** @type {string} */ key) => /** @type {HTMLInputElement} */ (document.getElementById(`smart-gauge-${key}`)).value;
      body.gauge = { unit: value('unit').trim(), min: Number(value('min')), max: Number(value('max')) };
    }
    void add(body);
  });
  return form;
}

/** @param {Record<string, any>} body */
async function add(body) {
  statusBox.textContent = '';
  errorBox.textContent = '';
  try {
    const { data, etag } = await call('POST', `exhibitions/${exhibitionId}/smart`, { body, ifMatch: version });
    state = data;
    setVersion(etag ?? data.version);
    render();
    showToken(data.created.feed, data.created.token);
    statusBox.textContent = t('smartAdded', { id: data.created.smart_exhibit });
    void poll();
  } catch (e) {
    await failed(e);
    const field = e instanceof ApiError ? e.body?.field : null;
    const target = field && document.getElementById(`smart-${String(field).replace('.', '-')}`);
    if (target) target.focus();
  }
}

/** The token, this once: nothing keeps it but this box, which the curator closes.
 * @param {string} feed @param {string} token */
function showToken(feed, token) {
  tokenBox.replaceChildren();
  tokenBox.append(el('h3', { id: 'smart-token-heading', tabindex: '-1' }, t('tokenHeading', { feed })),
    el('p', { class: 'warning', id: 'smart-token-once' }, t('tokenOnce')));
  const value = el('input', { id: 'smart-token-value', readonly: '', 'aria-labelledby': 'smart-token-heading',
    'aria-describedby': 'smart-token-once', autocomplete: 'off', spellcheck: 'false' });
  value.value = token;
  const copy = el('button', { type: 'button', id: 'smart-token-copy' }, t('copy'));
  const copied = el('span', { role: 'status', class: 'status' });
  copy.addEventListener('click', async () => {
    value.select();
    try {
      await navigator.clipboard.writeText(token);
    } catch {
      document.execCommand('copy'); // http:// on a LAN has no clipboard API
    }
    copied.textContent = t('copied');
  });
  const done = el('button', { type: 'button', id: 'smart-token-done' }, t('hideToken'));
  done.addEventListener('click', () => {
    tokenBox.replaceChildren();
    /** @type {HTMLElement | null} */ (panel.querySelector('h2'))?.focus();
  });
  const p = el('p');
  p.append(value, ' ', copy, ' ', done, ' ', copied);
  tokenBox.append(p);
  /** @type {HTMLElement} */ (tokenBox.querySelector('h3')).focus();
}

/** @param {string} smartId */
async function removeExhibit(smartId) {
  if (!confirm(t('confirmRemove', { id: smartId }))) return;
  statusBox.textContent = '';
  errorBox.textContent = '';
  try {
    const { data, etag } = await call('DELETE', `exhibitions/${exhibitionId}/smart/${smartId}`, { ifMatch: version });
    state = data;
    setVersion(etag ?? data.version);
    delete readings[smartId];
    render();
    statusBox.textContent = t('smartRemoved', { id: smartId });
  } catch (e) {
    await failed(e);
  }
}

/** @param {unknown} e */
async function failed(e) {
  errorBox.textContent = e instanceof ApiError && e.status === 409
    ? t('conflict', { message: e.message })
    : t('error', { message: String(/** @type {Error} */ (e).message) });
  if (e instanceof ApiError && e.status === 409 && e.body?.code === 'conflict') await load();
}

// after i18n.js has stored the choice (listeners run in any order)
document.getElementById('ui-lang')?.addEventListener('change', () => setTimeout(() => {
  render();
  for (const id of Object.keys(readings)) fillReadings(id);
}, 0));
if (await loadSession()) {
  try {
    await load();
    void poll();
    setInterval(() => void poll(), POLL_MS);
  } catch (e) {
    panel.append(el('p', { class: 'error', role: 'alert' }, t('error', { message: String(/** @type {Error} */ (e).message) })));
  }
}
