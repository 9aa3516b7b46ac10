// @ts-check
// Where the server's root is on the visitor's side: '/' or, when a museum serves vrculture
// under a path of its own site, '/vr/'. The server writes it into every page it serves as
// <base href> (vrculture/server/basepath.py); everything else follows from document.baseURI.
// Modules write relative URLs; the few that need a path (the page's own address, the
// WebSocket) go through these helpers, never through a root-relative string.

/** '/' or '/vr/': the path of the document's base. */
export function basePath() {
  return new URL(document.baseURI).pathname;
}

/**
 * A page address as the server's routes see it ('/exhibitions/demo'), the base path taken off.
 * @param {string} pathname
 */
export function routePath(pathname = location.pathname) {
  const base = basePath();
  return pathname.startsWith(base) ? `/${pathname.slice(base.length)}` : pathname;
}

/**
 * A server route ('/api/search' or 'api/search') as the visitor's browser must ask for it.
 * @param {string} route
 */
export function publicPath(route) {
  return basePath() + route.replace(/^\/+/, '');
}

/**
 * The ws: or wss: URL of a server route, under the base.
 * @param {string} route
 */
export function webSocketUrl(route) {
  const url = new URL(route.replace(/^\/+/, ''), document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * Under a <base>, `href="#x"` resolves against the base, not the page: a skip link would
 * navigate to the list page. In-page links keep to the page: the fragment is set on the
 * page's own address (scrolling and moving the focus start as a fragment link does).
 * @param {Document} doc
 */
export function keepFragmentLinksOnPage(doc = document) {
  doc.addEventListener('click', (event) => {
    const target = /** @type {Element | null} */ (event.target);
    const link = target?.closest?.('a[href^="#"]');
    const fragment = link?.getAttribute('href');
    if (!fragment || fragment === '#' || event.defaultPrevented) return;
    event.preventDefault();
    location.hash = fragment;
  });
}
