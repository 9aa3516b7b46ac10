// @ts-check
// Browser storage is never assumed: a cross-site iframe (a museum page embedding the viewer) may
// deny localStorage with a SecurityError, and private modes may throw on write.
/** @param {string} key */
export function readPreference(key) {
  try {
    return window.localStorage.getItem(`vrculture.${key}`);
  } catch {
    return null;
  }
}

/**
 * @param {string} key
 * @param {string} value
 */
export function writePreference(key, value) {
  try {
    window.localStorage.setItem(`vrculture.${key}`, String(value));
    return true;
  } catch {
    return false;
  }
}
