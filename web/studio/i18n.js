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
    choosePasswordHelp: 'You signed in with a one-time password: it opens nothing else. Choose your own (at least 12 characters, not the one-time password) to open the studio.',
    currentPassword: 'Current password', newPassword: 'New password', savePassword: 'Save password',
    passwordSaved: 'Password saved.', signedInAs: 'Signed in as {name}', backToList: 'All exhibitions',
    exhibitionTexts: 'Exhibition texts', addObjects: 'Add objects', objects: 'Objects', noObjects: 'No objects yet.',
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
    'action.edit_object_geometry': 'set up, turn or size of object {object}',
    'action.edit_object_presentation': 'set how object {object} is shown',
    presentation: 'Presentation', mount: 'Mount', mountDefault: 'by kind and size',
    mountPlinth: 'plinth', mountFloor: 'floor (no plinth)', mountWall: 'wall', mountVitrine: 'vitrine (glass case on a plinth)',
    plinthHeight: 'Plinth height in metres (empty: to bring the object to eye level)',
    wallHeight: 'Middle of a wall-hung work above the floor, metres (empty: 1.5)',
    light: 'Light (1 as the room, 0 to 2)', savePresentation: 'Save presentation',
    'action.edit_annotations': 'edited the annotations of object {object}',
    editObject: 'Edit object {id}: 3D view, up, size and annotations', backToExhibition: 'Back to the exhibition',
    view3d: '3D view', upAxis: 'Which way is up in the source', upAuto: 'automatic ({up})',
    turn: 'Turn (degrees)', height: 'Real height in metres (empty: from the units)',
    units: 'Units of the source', unitsUnset: 'as stored', saveGeometry: 'Save up, turn and size',
    viewHelp: 'Drag to orbit, scroll to zoom, arrow keys move the view. The figure beside the object is 1.8 m tall.',
    viewLabel: '3D view of {title} beside a 1.8 m figure',
    sizeIs: '{h} m tall: {ratio} × the 1.8 m figure', noPreview: 'Not built yet: publish the exhibition to see the object in 3D.',
    previewOf: 'Shown from the last build (converted with {up} up); changes are shown as the next build will make them.',
    annotations: 'Annotations', placeAnnotation: 'Place an annotation',
    placeHelp: 'then click on the model’s surface (or press Enter in the view to place at its centre)',
    saveAnnotations: 'Save annotations', noAnnotations: 'No annotations yet.',
    annotationHeading: 'Annotation {id}', annotationAt: 'At {where} (metres)', annotationText: 'Text',
    deleteAnnotation: 'Delete annotation {id}', missedModel: 'That was not on the model: try again.',
    placed: 'Annotation {id} placed: write its title and text, then save.', objectTexts: 'Texts', saveTexts: 'Save texts',
    annotationsMoved: 'Saved; the annotations moved with the object.',
    roomsSection: 'Rooms', arrangeRooms: 'Arrange the rooms and preview them',
  },
  sv: {
    studio: 'vrculture studio', language: 'Språk', signInTitle: 'Logga in i studion',
    name: 'Namn', password: 'Lösenord', signIn: 'Logga in', signOut: 'Logga ut',
    wrongCredentials: 'Fel namn eller lösenord.', tooMany: 'För många försök: försök igen om {s} s.',
    exhibitions: 'Utställningar', yourExhibitions: 'Dina utställningar', noExhibitions: 'Inga utställningar ännu.',
    createExhibition: 'Skapa en utställning', exhibitionId: 'Id (a-z, 0-9, - och _)',
    languages: 'Språk (det första är standard), t.ex. sv, en', create: 'Skapa', created: 'Skapad.',
    choosePassword: 'Välj ett eget lösenord',
    choosePasswordHelp: 'Du loggade in med ett engångslösenord: det öppnar inget annat. Välj ett eget (minst 12 tecken, inte engångslösenordet) för att öppna studion.',
    currentPassword: 'Nuvarande lösenord', newPassword: 'Nytt lösenord', savePassword: 'Spara lösenord',
    passwordSaved: 'Lösenordet är sparat.', signedInAs: 'Inloggad som {name}', backToList: 'Alla utställningar',
    exhibitionTexts: 'Utställningens texter', addObjects: 'Lägg till föremål', objects: 'Föremål', noObjects: 'Inga föremål ännu.',
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
    'action.edit_object_geometry': 'ändrade upp, vridning eller storlek för föremål {object}',
    'action.edit_object_presentation': 'ändrade hur föremål {object} visas',
    presentation: 'Presentation', mount: 'Montering', mountDefault: 'efter sort och storlek',
    mountPlinth: 'sockel', mountFloor: 'golv (ingen sockel)', mountWall: 'vägg', mountVitrine: 'monter (glasmonter på sockel)',
    plinthHeight: 'Sockelns höjd i meter (tomt: så att föremålet kommer i ögonhöjd)',
    wallHeight: 'Mitten av ett verk på väggen över golvet, meter (tomt: 1,5)',
    light: 'Ljus (1 som rummet, 0 till 2)', savePresentation: 'Spara presentation',
    'action.edit_annotations': 'ändrade anteckningarna för föremål {object}',
    editObject: 'Redigera föremål {id}: 3D-vy, upp, storlek och anteckningar', backToExhibition: 'Tillbaka till utställningen',
    view3d: '3D-vy', upAxis: 'Vilket håll är upp i källfilen', upAuto: 'automatiskt ({up})',
    turn: 'Vridning (grader)', height: 'Verklig höjd i meter (tomt: enligt enheterna)',
    units: 'Källfilens enheter', unitsUnset: 'som lagrat', saveGeometry: 'Spara upp, vridning och storlek',
    viewHelp: 'Dra för att kretsa, scrolla för att zooma, piltangenterna flyttar vyn. Figuren bredvid föremålet är 1,8 m lång.',
    viewLabel: '3D-vy av {title} bredvid en figur på 1,8 m',
    sizeIs: '{h} m högt: {ratio} × figuren på 1,8 m', noPreview: 'Inte byggt ännu: publicera utställningen för att se föremålet i 3D.',
    previewOf: 'Visas från senaste bygget (konverterat med {up} upp); ändringar visas som nästa bygge gör dem.',
    annotations: 'Anteckningar', placeAnnotation: 'Placera en anteckning',
    placeHelp: 'klicka sedan på modellens yta (eller tryck Enter i vyn för att placera i dess mitt)',
    saveAnnotations: 'Spara anteckningar', noAnnotations: 'Inga anteckningar ännu.',
    annotationHeading: 'Anteckning {id}', annotationAt: 'Vid {where} (meter)', annotationText: 'Text',
    deleteAnnotation: 'Ta bort anteckning {id}', missedModel: 'Det var inte på modellen: försök igen.',
    placed: 'Anteckning {id} är placerad: skriv dess titel och text och spara.', objectTexts: 'Texter', saveTexts: 'Spara texter',
    annotationsMoved: 'Sparat; anteckningarna följde med föremålet.',
    roomsSection: 'Salar', arrangeRooms: 'Ordna salarna och förhandsvisa dem',
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
