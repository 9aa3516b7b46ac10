// The exhibition manifest is the viewer's only starting input: fetch it and resolve its
// bundle-relative URLs against /bundles/{id}/.
export function exhibitionIdFromPath(pathname = location.pathname) {
  const m = pathname.match(/^\/(?:exhibitions|embed)\/([a-z0-9][a-z0-9_-]{0,63})(?:\/([a-z0-9][a-z0-9_-]{0,63}))?\/?$/);
  return m ? { id: m[1], object: m[2] || null } : null;
}

export function bundleUrl(id, relative) {
  if (!/^[A-Za-z0-9._/-]+$/.test(relative) || relative.split('/').includes('..')) {
    throw new Error(`unsafe asset url in exhibition.json: ${relative}`);
  }
  return `/bundles/${encodeURIComponent(id)}/${relative}`;
}

export async function loadManifest(id) {
  const url = `/bundles/${encodeURIComponent(id)}/exhibition.json`;
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

/** Everything a visitor can select, by id: collection objects and smart exhibits. */
export function selectableIndex(manifest) {
  const index = new Map();
  for (const o of manifest.objects) index.set(o.id, { kind: 'object', record: o });
  for (const s of manifest.smart_exhibits) index.set(s.id, { kind: 'smart', record: s });
  return index;
}
