// @ts-check
// The exhibition manifest is the viewer's only starting input: fetch it and resolve its
// bundle-relative URLs against /bundles/{id}/.
import { publicPath, routePath } from './base.js';

/** @typedef {import('./i18n.js').Text} Text */
/** @typedef {{position: number[], yaw?: number}} ViewPoint */
/** @typedef {{position?: number[], yaw?: number, footprint?: number[], mount?: string, view_point?: ViewPoint}} Placement */
/**
 * A level of detail; `error`: its measured largest distance from the source's surface, metres;
 * `texture_px`: its largest texture's side (0 when untextured).
 * @typedef {{name: string, url: string, bytes: number, triangles: number, gpu_texture_bytes?: number,
 *   error?: number, texture_px?: number}} Level
 */
/** @typedef {{id: string, title?: Text, text?: Text, position: number[], normal?: number[]}} Annotation */
/**
 * How the object is shown (docs/collection-format.md "Presentation"); `light` scales its light.
 * @typedef {{mount: string, light: number, plinth_height?: number, wall_height?: number}} Presentation
 */
/** @typedef {{label?: string, id?: string, uri?: string, max_level?: string}} Rights */
/**
 * @typedef {{id: string, kind?: string, title?: Text, description?: Text, creator?: string, date?: string,
 *   credit?: Text, rights?: Rights, annotations?: Annotation[], levels: Level[], bounds?: {min: number[], max: number[]},
 *   placement?: Placement, presentation?: Presentation}} ObjectRecord
 */
/**
 * @typedef {{id: string, title?: Text, description?: Text, goal?: string, kind: string, feeds: string[],
 *   model: {url: string, bytes?: number, nodes?: Record<string, string>}, placement?: Placement,
 *   gauge?: {unit?: string}}} SmartRecord
 */
/** @typedef {{object?: string, title?: Text, narration?: Text, view_point?: ViewPoint}} TourStop */
/** @typedef {{id: string, title?: Text, stops: TourStop[]}} Tour */
/**
 * @typedef {{schema_version: number, id: string, title?: Text, credit?: Text, languages: string[],
 *   default_language?: string, objects: ObjectRecord[], rooms: {bounds: number[]}[], tours: Tour[],
 *   smart_exhibits: SmartRecord[], feeds: Record<string, {unit?: string, kind?: string, exhibit?: string}>,
 *   walkable?: number[][], entrance?: {position: number[], yaw: number},
 *   architecture?: {url: string, bytes?: number}, budget?: {triangles?: number, gpu_texture_bytes?: number},
 *   projects?: import('./programme.js').Project[]}} Manifest
 */
/** @typedef {{kind: 'object', record: ObjectRecord} | {kind: 'smart', record: SmartRecord}} Selectable */

/**
 * The exhibition and object a page's address names: /exhibitions/{id}, an object's deep link
 * /exhibitions/{id}/objects/{object}, /embed/{id} and the one-object embed /embed/{id}/{object}.
 */
export function exhibitionIdFromPath(pathname = routePath()) {
  const id = '[a-z0-9][a-z0-9_-]{0,63}';
  const m = pathname.match(new RegExp(`^/(?:exhibitions/(${id})(?:/objects/(${id}))?|embed/(${id})(?:/(${id}))?|studio/exhibitions/(${id})/preview)/?$`));
  return m ? { id: m[1] || m[3] || m[5], object: m[2] || m[4] || null } : null;
}

/**
 * Where the exhibition's files are: /bundles/{id}/, or for the studio's private preview
 * (/studio/exhibitions/{id}/preview/) the studio's own build under /studio/preview/{id}/.
 * @param {string} id
 * @param {string} pathname
 */
export function bundleRoot(id, pathname = routePath()) {
  const preview = `/studio/exhibitions/${id}/preview`;
  const inStudio = pathname === preview || pathname === `${preview}/`;
  return publicPath(`${inStudio ? 'studio/preview' : 'bundles'}/${encodeURIComponent(id)}/`);
}

/**
 * @param {string} id
 * @param {string} relative
 */
export function bundleUrl(id, relative) {
  if (!/^[A-Za-z0-9._/-]+$/.test(relative) || relative.split('/').includes('..')) {
    throw new Error(`unsafe asset url in exhibition.json: ${relative}`);
  }
  return `${bundleRoot(id)}${relative}`;
}

/**
 * @param {string} id
 * @returns {Promise<Manifest>}
 */
export async function loadManifest(id) {
  const url = `${bundleRoot(id)}exhibition.json`;
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`exhibition "${id}" could not be loaded (HTTP ${res.status})`);
  const manifest = await res.json();
  if (manifest.schema_version !== 1) {
    throw new Error(`exhibition "${id}" uses schema version ${manifest.schema_version}; this viewer reads version 1`);
  }
  for (const key of ['objects', 'rooms', 'tours', 'smart_exhibits']) {
    if (!Array.isArray(manifest[key])) manifest[key] = [];
  }
  manifest.feeds = manifest.feeds || {};
  return manifest;
}

/**
 * Everything a visitor can select, by id: collection objects and smart exhibits.
 * @param {Manifest} manifest
 */
export function selectableIndex(manifest) {
  /** @type {Map<string, Selectable>} */
  const index = new Map();
  for (const o of manifest.objects) index.set(o.id, { kind: 'object', record: o });
  for (const s of manifest.smart_exhibits) index.set(s.id, { kind: 'smart', record: s });
  return index;
}
