// @ts-check
// What a panel says about a selected object or exhibit, in the visitor's language; shared by the
// HTML overlay and the in-VR canvas panel so that both always show the same thing.
import { t } from './i18n.js';

/** @typedef {{id: string, title: string, text: string}} PanelAnnotation */
/**
 * @typedef {{id: string, lang: string, kind: string, title: string, description: string, lines: string[],
 *   annotations: PanelAnnotation[], annotation?: PanelAnnotation | null, live: import('./smart.js').LiveValue[],
 *   credit?: string, licence?: string, licenceUrl?: string | null}} PanelContent
 */

/**
 * @param {import('./main.js').App} viewer the page: its index, language, manifest and smart exhibits
 * @param {string} id
 * @param {string | null} [annotationId]
 * @returns {PanelContent | null}
 */
export function panelContent(viewer, id, annotationId = null) {
  const entry = viewer.index.get(id);
  if (!entry) return null;
  const lang = viewer.language;
  /** @param {import('./i18n.js').Text} x */
  const tx = (x) => viewer.text(x);
  /** @type {PanelContent} */
  const c = { id, lang, kind: entry.kind, title: tx(entry.record.title), description: tx(entry.record.description), lines: [], annotations: [], live: [] };
  if (entry.kind === 'object') {
    const r = entry.record;
    if (r.creator) c.lines.push(`${t(lang, 'creator')}: ${r.creator}`);
    if (r.date) c.lines.push(`${t(lang, 'date')}: ${r.date}`);
    c.credit = tx(r.credit) || tx(viewer.manifest.credit);
    const rights = r.rights || {};
    c.licence = rights.label || rights.id || '';
    c.licenceUrl = safeUrl(rights.uri);
    c.annotations = (r.annotations || []).map((a) => ({ id: a.id, title: tx(a.title), text: tx(a.text) }));
    if (annotationId) c.annotation = c.annotations.find((a) => a.id === annotationId) || null;
  } else {
    c.lines.push(`${t(lang, `goal.${entry.record.goal}`)}`);
    c.live = viewer.smart ? viewer.smart.panelValues(id) : [];
  }
  return c;
}

/** @param {string | undefined} u */
export function safeUrl(u) {
  if (!u) return null;
  try {
    const url = new URL(u, location.href);
    return ['http:', 'https:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} lang
 * @param {import('./smart.js').LiveValue} v
 */
export function liveLabel(lang, v) {
  if (v.value == null) return t(lang, 'noReadings');
  if (v.kind === 'eye-tracking-screening') {
    // a suppressed small count reads "<5"; a count withheld as "suppressed" is left out
    const r = v.last && v.last.referred;
    const referred = Number.isFinite(r) || r === '<5' ? `, ${r} ${t(lang, 'referred')}` : '';
    return `${v.value} ${t(lang, 'sessions')}${referred}`;
  }
  let label = `${t(lang, `kinds.${v.kind}`)}: ${Math.round(v.value * 10) / 10}${v.unit ? ` ${v.unit}` : ''}`;
  const last = v.last || {};
  // the exhibit's point: the energy a presence-dimmed lamp saves against one always at full power
  if (v.kind === 'street-lighting' && last.rated_w > 0 && Number.isFinite(last.power_w)) {
    label += ` · ${t(lang, 'energySaved')} ${Math.round(100 * (1 - last.power_w / last.rated_w))} %`;
  }
  if (v.kind === 'smart-bin' && Number.isFinite(last.compactions)) {
    label += ` · ${t(lang, 'compactions')}: ${last.compactions}`;
  }
  return label;
}

/**
 * A number in the exhibition's language (never the machine's locale).
 * @param {string} lang
 * @param {number} n
 * @param {number} [digits]
 */
export function formatNumber(lang, n, digits = 1) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/**
 * "since 1 Dec" / "sedan 1 dec." or "this term (autumn term 2026)": the period a figure covers.
 * @param {string} lang
 * @param {import('./smart.js').GoalFigure['period']} period
 */
export function periodLabel(lang, period) {
  const [y, m, d] = String(period.from).split('-').map(Number);
  if (period.kind === 'term') {
    const name = period.term ? t(lang, `schoolTerm.${period.term}`) : '';
    const termName = name.startsWith('schoolTerm.') ? period.term : name; // a term of the settings' own
    return `${t(lang, 'figure.thisTerm')} (${termName} ${y})`;
  }
  // a calendar date, not an instant: formatted in UTC so that no zone can move it a day
  const day = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
  return `${t(lang, 'figure.since')} ${day}`;
}

/**
 * The goal figure's line: "Energy saved since 1 Dec: 12.3 kWh (0.7 kg CO₂e)".
 * @param {string} lang
 * @param {import('./smart.js').GoalFigure} f
 */
export function figureLabel(lang, f) {
  const head = `${t(lang, `figure.${f.figure}`)} ${periodLabel(lang, f.period)}`;
  if (f.figure === 'energy_saved') {
    return `${head}: ${formatNumber(lang, Number(f.value), 1)} kWh (${formatNumber(lang, Number(f.co2_kg), 1)} ${t(lang, 'figure.co2')})`;
  }
  if (f.figure === 'screening_sessions') {
    // "<5": a count of 1-4 withheld for privacy, shown as the server sent it
    const value = typeof f.value === 'number' ? formatNumber(lang, f.value, 0) : String(f.value);
    return `${head}: ${f.at_least ? `${t(lang, 'figure.atLeast')} ` : ''}${value}`;
  }
  return `${head}: ${formatNumber(lang, Number(f.value), 1)}`;
}

/**
 * How the figure is computed, with the assumptions the server used.
 * @param {string} lang
 * @param {import('./smart.js').GoalFigure} f
 */
export function figureHow(lang, f) {
  const a = f.assumptions || {};
  if (f.figure === 'energy_saved') {
    const power = Number.isFinite(a.lamp_power_w) ? `${formatNumber(lang, a.lamp_power_w, 0)} W` : t(lang, 'figure.severalPowers');
    return t(lang, 'figure.howEnergy').replace('{power}', power).replace('{factor}', formatNumber(lang, Number(a.emission_factor_g_per_kwh), 0));
  }
  if (f.figure === 'trips_avoided') {
    return t(lang, 'figure.howTrips').replace('{ratio}', formatNumber(lang, 100 * Number(a.compaction_ratio), 0));
  }
  return t(lang, 'figure.howSessions');
}
