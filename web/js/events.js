// @ts-check
// The viewer's parts (App, Viewer, RoomClient) are the browser's EventTargets: they fire
// CustomEvents whose `detail` carries the data. `listen` hands a listener that detail, and a
// listener that throws is reported in viewerState.errors rather than escaping as an uncaught error.
import { reportError } from './state.js';

/**
 * @template T
 * @param {EventTarget} target
 * @param {string} type
 * @param {(detail: T) => void} listener
 */
export function listen(target, type, listener) {
  target.addEventListener(type, (event) => {
    try {
      listener(/** @type {CustomEvent<T>} */ (event).detail);
    } catch (err) {
      reportError(`on ${type}`, err);
    }
  });
}

/**
 * @param {EventTarget} target
 * @param {string} type
 * @param {unknown} detail
 */
export function fire(target, type, detail) {
  target.dispatchEvent(new CustomEvent(type, { detail }));
}
