// What the viewer's modules put on `window` (see state.js and main.js).
interface Window {
  viewerState: typeof import('./state.js').viewerState;
  viewer: ReturnType<typeof import('./main.js').publicApi>;
  viewerTest?: ReturnType<typeof import('./main.js').testHooks>;
  /** Set by an end-to-end test before the page loads: expose window.viewerTest. */
  vrcultureTestHooks?: boolean;
}
