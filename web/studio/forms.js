// @ts-check
// Form fields the studio's pages share: one labelled input per language of a text, with a
// visible "missing" flag where a translation is lacking.
import { t } from './i18n.js';

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Inputs for one text in every language: ids `${prefix}-${field}-${lang}`.
 * @param {HTMLElement} parent
 * @param {string} prefix
 * @param {string} field
 * @param {string[]} languages
 * @param {Record<string, string>} values
 * @param {string[]} missing languages flagged as missing
 */
export function textFields(parent, prefix, field, languages, values, missing = []) {
  for (const lang of languages) {
    const id = `${prefix}-${field}-${lang}`;
    const p = el('p');
    const label = el('label', { for: id }, `${t(field)} (${lang})`);
    if (missing.includes(lang)) {
      const flag = el('span', { class: 'missing', id: `${id}-missing` }, t('missing'));
      label.append(flag);
    }
    const input = field === 'description'
      ? el('textarea', { id, name: id, lang, maxlength: '8000' })
      : el('input', { id, name: id, lang, maxlength: field === 'title' ? '200' : '500' });
    input.value = values[lang] ?? '';
    if (missing.includes(lang)) input.setAttribute('aria-describedby', `${id}-missing`);
    p.append(label, input);
    parent.append(p);
  }
}

/**
 * The values of textFields' inputs: empty ones as null (remove), unchanged ones left out.
 * @param {string} prefix
 * @param {string} field
 * @param {string[]} languages
 * @param {Record<string, string>} before
 * @returns {Record<string, string | null> | null} null when nothing changed
 */
export function changedTexts(prefix, field, languages, before) {
  /** @type {Record<string, string | null>} */
  const out = {};
  for (const lang of languages) {
    const input = /** @type {HTMLInputElement} */ (document.getElementById(`${prefix}-${field}-${lang}`));
    const value = input.value.trim();
    if (value === (before[lang] ?? '')) continue;
    out[lang] = value || null;
  }
  return Object.keys(out).length ? out : null;
}
