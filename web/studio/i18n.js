// @ts-check
// The studio's words in Swedish and English; the choice is remembered in this browser.

/** @type {Record<string, Record<string, string>>} */
const WORDS = {
  en: {
    studio: 'vrculture studio', language: 'Language', signInTitle: 'Sign in to the studio',
    name: 'Name', password: 'Password', signIn: 'Sign in', signOut: 'Sign out',
    wrongCredentials: 'Wrong name or password.', tooMany: 'Too many attempts: try again in {s} s.',
    exhibitions: 'Exhibitions', yourExhibitions: 'Your exhibitions', noExhibitions: 'No exhibitions yet.',
    createExhibition: 'Create an exhibition', exhibitionId: 'Id (a-z, 0-9, - and _)',
    languages: 'Languages (first is the default), e.g. sv, en', create: 'Create', created: 'Created.',
    choosePassword: 'Choose your own password',
    choosePasswordHelp: 'You signed in with a one-time password. Choose your own (at least 12 characters).',
    currentPassword: 'Current password', newPassword: 'New password', savePassword: 'Save password',
    passwordSaved: 'Password saved.', signedInAs: 'Signed in as {name}', backToList: 'All exhibitions',
    exhibitionTexts: 'Exhibition texts', objects: 'Objects', noObjects: 'No objects yet.',
    members: 'Members', addMember: 'Add a curator by name', add: 'Add', audit: 'Changes',
    auditCaption: 'Who changed what, newest first', when: 'When', who: 'Who', what: 'What',
    title: 'Title', description: 'Description', credit: 'Credit line', creator: 'Creator',
    date: 'Date', rights: 'Rights', save: 'Save', saved: 'Saved.', missing: 'missing',
    missingIn: 'Missing translation in {langs}', objectHeading: 'Object {id}',
    conflict: 'Not saved: {message}', error: 'Error: {message}', loading: 'Loading…',
    publishing: 'Publishing', publish: 'Publish', publishingNow: 'Building and publishing…',
    published: 'Published version {version}.', versionsCaption: 'Published versions, newest first',
    version: 'Version', publishedBy: 'Published by', action: 'Action', current: 'shown to visitors',
    rollBack: 'Roll back to {version}', rolledBack: 'Visitors now see version {version}.',
    'action.create': 'created the exhibition', 'action.edit_exhibition': 'edited the exhibition texts',
    'action.edit_object': 'edited object {object}', 'action.add_member': 'added {curator} as a member',
    'action.claim': 'opened the hand-written collection and became its member',
    'action.publish': 'published version {version}', 'action.rollback': 'rolled back to version {version}',
  },
  sv: {
    studio: 'vrculture studio', language: 'Språk', signInTitle: 'Logga in i studion',
    name: 'Namn', password: 'Lösenord', signIn: 'Logga in', signOut: 'Logga ut',
    wrongCredentials: 'Fel namn eller lösenord.', tooMany: 'För många försök: försök igen om {s} s.',
    exhibitions: 'Utställningar', yourExhibitions: 'Dina utställningar', noExhibitions: 'Inga utställningar ännu.',
    createExhibition: 'Skapa en utställning', exhibitionId: 'Id (a-z, 0-9, - och _)',
    languages: 'Språk (det första är standard), t.ex. sv, en', create: 'Skapa', created: 'Skapad.',
    choosePassword: 'Välj ett eget lösenord',
    choosePasswordHelp: 'Du loggade in med ett engångslösenord. Välj ett eget (minst 12 tecken).',
    currentPassword: 'Nuvarande lösenord', newPassword: 'Nytt lösenord', savePassword: 'Spara lösenord',
    passwordSaved: 'Lösenordet är sparat.', signedInAs: 'Inloggad som {name}', backToList: 'Alla utställningar',
    exhibitionTexts: 'Utställningens texter', objects: 'Föremål', noObjects: 'Inga föremål ännu.',
    members: 'Medlemmar', addMember: 'Lägg till en kurator med namn', add: 'Lägg till', audit: 'Ändringar',
    auditCaption: 'Vem ändrade vad, nyast först', when: 'När', who: 'Vem', what: 'Vad',
    title: 'Titel', description: 'Beskrivning', credit: 'Krediteringsrad', creator: 'Upphovsperson',
    date: 'Datering', rights: 'Rättigheter', save: 'Spara', saved: 'Sparat.', missing: 'saknas',
    missingIn: 'Översättning saknas på {langs}', objectHeading: 'Föremål {id}',
    conflict: 'Inte sparat: {message}', error: 'Fel: {message}', loading: 'Laddar…',
    publishing: 'Publicering', publish: 'Publicera', publishingNow: 'Bygger och publicerar…',
    published: 'Version {version} är publicerad.', versionsCaption: 'Publicerade versioner, nyast först',
    version: 'Version', publishedBy: 'Publicerad av', action: 'Åtgärd', current: 'visas för besökare',
    rollBack: 'Gå tillbaka till {version}', rolledBack: 'Besökarna ser nu version {version}.',
    'action.create': 'skapade utställningen', 'action.edit_exhibition': 'ändrade utställningens texter',
    'action.edit_object': 'ändrade föremål {object}', 'action.add_member': 'lade till {curator} som medlem',
    'action.claim': 'öppnade den handskrivna samlingen och blev dess medlem',
    'action.publish': 'publicerade version {version}', 'action.rollback': 'gick tillbaka till version {version}',
  },
};

const KEY = 'vrculture.studio.lang';

/** A studio module's own words (tours, smart exhibits, …), merged into the dictionary.
 * @param {Record<string, Record<string, string>>} extra
 */
export function addWords(extra) {
  for (const [lang, words] of Object.entries(extra)) Object.assign(WORDS[lang] ??= {}, words);
}

/** @returns {string} */
export function currentLang() {
  const stored = localStorage.getItem(KEY);
  if (stored && stored in WORDS) return stored;
  return navigator.language.toLowerCase().startsWith('sv') ? 'sv' : 'en';
}

/**
 * @param {string} key
 * @param {Record<string, string>} [values]
 * @returns {string}
 */
export function t(key, values = {}) {
  const text = WORDS[currentLang()][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

/** Fill every [data-i18n] element and set the page's language; calls `onChange` after a switch.
 * @param {() => void} [onChange]
 */
export function setUpLanguage(onChange) {
  const apply = () => {
    document.documentElement.lang = currentLang();
    for (const el of document.querySelectorAll('[data-i18n]')) {
      el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n ?? '');
    }
  };
  const select = /** @type {HTMLSelectElement | null} */ (document.getElementById('ui-lang'));
  if (select) {
    select.value = currentLang();
    select.addEventListener('change', () => {
      localStorage.setItem(KEY, select.value);
      apply();
      onChange?.();
    });
  }
  apply();
}
