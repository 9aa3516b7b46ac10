// What a panel says about a selected object or exhibit, in the visitor's language; shared by the
// HTML overlay and the in-VR canvas panel so that both always show the same thing.
import { t } from './i18n.js';

export function panelContent(viewer, id, annotationId = null) {
  const entry = viewer.index.get(id);
  if (!entry) return null;
  const lang = viewer.language;
  const tx = (x) => viewer.text(x);
  const r = entry.record;
  const c = { id, lang, kind: entry.kind, title: tx(r.title), description: tx(r.description), lines: [], annotations: [], live: [] };
  if (entry.kind === 'object') {
    if (r.creator) c.lines.push(`${t(lang, 'creator')}: ${r.creator}`);
    if (r.date) c.lines.push(`${t(lang, 'date')}: ${r.date}`);
    c.credit = tx(r.credit) || tx(viewer.manifest.credit);
    const rights = r.rights || {};
    c.licence = rights.label || rights.id || '';
    c.licenceUrl = safeUrl(rights.uri);
    c.annotations = (r.annotations || []).map((a) => ({ id: a.id, title: tx(a.title), text: tx(a.text) }));
    if (annotationId) c.annotation = c.annotations.find((a) => a.id === annotationId) || null;
  } else {
    c.lines.push(`${t(lang, `goal.${r.goal}`)}`);
    c.live = viewer.smart ? viewer.smart.panelValues(id) : [];
  }
  return c;
}

export function safeUrl(u) {
  try {
    const url = new URL(u, location.href);
    return ['http:', 'https:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

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
