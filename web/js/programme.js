// @ts-check
// The city's programme (exhibition.json `projects`) in the object list's column: a folding list
// of projects with one filter chip per goal (none pressed: all; several: any of them) and a
// "live data" marker on every project whose feed has readings (the room's or the feed API's).
import { t } from './i18n.js';
import { viewerState } from './state.js';

export const GOALS = ['climate', 'economic', 'social', 'democratic'];
/** The id the programme wall is picked as (not an object id: ids never start with '#'). */
export const PROGRAMME_ID = '#programme';

/**
 * @typedef {{id: string, title: import('./i18n.js').Text, description?: import('./i18n.js').Text,
 *   goals: string[], status: string, district?: string, start_year?: number, link?: string,
 *   feed?: string}} Project
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node | string)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/**
 * The projects shown under the goals chosen (all when none is).
 * @param {Project[]} projects
 * @param {Set<string>} goals
 */
export function filterProjects(projects, goals) {
  return goals.size ? projects.filter((p) => p.goals.some((g) => goals.has(g))) : projects;
}

export class Programme {
  /** @param {import('./main.js').App} app */
  constructor(app) {
    this.app = app;
    /** @type {Project[]} */
    this.projects = Array.isArray(app.manifest.projects) ? app.manifest.projects : [];
    /** @type {Set<string>} the goal chips pressed */
    this.goals = new Set();
    this.open = false;
    /** @type {import('./programmewall.js').ProgrammeWall | null} the wall in the smart-city hall */
    this.wall = null;
    this.section = el('section', { id: 'programme', 'aria-labelledby': 'programme-toggle' });
    this.toggle = el('button', { id: 'programme-toggle', type: 'button', 'aria-expanded': 'false',
      'aria-controls': 'programme-body' });
    this.body = el('div', { id: 'programme-body' });
    this.body.hidden = true;
    this.chips = el('div', { class: 'programme-goals', role: 'group' });
    this.count = el('p', { id: 'programme-count', class: 'search-count', role: 'status', 'aria-live': 'polite' });
    this.list = el('ul', { id: 'programme-list' });
    this.body.append(this.chips, this.count, this.list);
    this.section.append(this.toggle, this.body);
    this.section.hidden = !this.projects.length || app.mode === 'turntable';
    this.toggle.addEventListener('click', () => this.setOpen(!this.open));
    document.querySelector('#tours')?.before(this.section);
  }

  /** @param {boolean} open */
  setOpen(open) {
    this.open = open;
    this.body.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
    viewerState.programme = { open, goals: [...this.goals], shown: this.shown().length };
  }

  shown() {
    return filterProjects(this.projects, this.goals);
  }

  /** @param {Project} p */
  isLive(p) {
    return Boolean(p.feed && viewerState.feeds[p.feed]);
  }

  /** (Re)writes the chips and the list in the current language. */
  render() {
    if (!this.projects.length) return;
    const lang = this.app.language;
    this.toggle.textContent = `${t(lang, 'programme')} (${this.projects.length})`;
    this.chips.setAttribute('aria-label', t(lang, 'filterByGoal'));
    this.chips.replaceChildren(...GOALS.map((goal) => {
      const chip = el('button', { type: 'button', class: 'chip', 'data-goal': goal,
        'aria-pressed': String(this.goals.has(goal)), text: t(lang, `goal.${goal}`) });
      chip.addEventListener('click', () => {
        if (this.goals.has(goal)) this.goals.delete(goal);
        else this.goals.add(goal);
        this.render();
      });
      return chip;
    }));
    const shown = this.shown();
    const total = this.projects.length;
    this.count.textContent = shown.length === total
      ? `${total} ${t(lang, 'projects')}`
      : `${shown.length} ${t(lang, 'of')} ${total} ${t(lang, 'projects')}`;
    this.list.replaceChildren(...shown.map((p) => this.item(p)));
    viewerState.programme = { open: this.open, goals: [...this.goals], shown: shown.length };
    this.wall?.draw();
  }

  /**
   * Puts the programme on the smart-city hall's wall (when the exhibition has one).
   * @param {import('./viewer.js').Viewer} viewer
   */
  async attachWall(viewer) {
    if (!this.projects.length || this.app.mode !== 'exhibition') return;
    const { ProgrammeWall } = await import('./programmewall.js');
    this.wall = new ProgrammeWall(this, viewer);
  }

  /**
   * A ray or click on the wall: a goal chip toggles that goal, as on the desktop chips.
   * @param {string | null} annotation `goal:<goal>` for a chip
   */
  onWallHit(annotation) {
    const goal = annotation?.startsWith('goal:') ? annotation.slice(5) : null;
    if (!goal || !GOALS.includes(goal)) return false;
    if (this.goals.has(goal)) this.goals.delete(goal);
    else this.goals.add(goal);
    this.render();
    return true;
  }

  /** @param {Project} p */
  item(p) {
    const lang = this.app.language;
    const li = el('li', { 'data-project': p.id, 'data-goals': p.goals.join(' ') });
    const heading = el('h3', { text: this.app.text(p.title) });
    li.append(heading);
    if (p.feed) {
      const live = el('span', { class: 'live', text: t(lang, 'liveData') });
      live.hidden = !this.isLive(p);
      heading.append(' ', live);
    }
    const meta = [t(lang, `status.${p.status}`), p.district, p.start_year ? String(p.start_year) : '']
      .filter(Boolean).join(' · ');
    li.append(el('p', { class: 'meta', text: meta }),
      el('p', { class: 'goals', text: p.goals.map((g) => t(lang, `goal.${g}`)).join(' · ') }));
    if (p.description) li.append(el('p', { text: this.app.text(p.description) }));
    const exhibit = p.feed ? this.app.manifest.feeds[p.feed]?.exhibit : undefined;
    if (exhibit) {
      const show = el('button', { type: 'button', class: 'show', text: t(lang, 'showInHall') });
      show.addEventListener('click', () => this.app.select(exhibit, 'list'));
      li.append(show);
    }
    if (p.link && /^https?:\/\//.test(p.link)) {
      li.append(' ', el('a', { href: p.link, target: '_blank', rel: 'noopener noreferrer', text: t(lang, 'readMore') }));
    }
    return li;
  }

  /** A reading arrived: show or hide the live markers without rebuilding the list. */
  refreshLive() {
    for (const p of this.projects) {
      if (!p.feed) continue;
      const marker = this.list.querySelector(`li[data-project="${p.id}"] .live`);
      if (marker instanceof HTMLElement) marker.hidden = !this.isLive(p);
    }
    this.wall?.draw();
  }
}
