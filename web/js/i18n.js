// @ts-check
// Visitor language: explicit choice (?lang= or a stored preference), else the browser's languages
// matched against the exhibition's, else the exhibition's default. Texts fall back the same way.
import { readPreference, writePreference } from './storage.js';

/** @typedef {string | Record<string, string> | null | undefined} Text a text in one language or in several */

/** @type {Record<string, Record<string, string | Record<string, string>>>} */
const UI = {
  sv: {
    loading: 'Laddar utställningen…', enterVR: 'Gå in i VR', exitVR: 'Lämna VR', objects: 'Föremål',
    close: 'Stäng', language: 'Språk', credit: 'Tack till', licence: 'Licens', creator: 'Upphov',
    date: 'Datering', annotations: 'Detaljer', tours: 'Visningar', startTour: 'Starta visningen',
    next: 'Nästa', previous: 'Föregående', endTour: 'Avsluta visningen', speak: 'Läs upp',
    stop: 'Stopp', of: 'av', liveValues: 'Aktuella värden', history: 'Historik',
    noWebGL: 'Din webbläsare kan inte visa 3D (WebGL saknas). Föremålen finns i listan.',
    offline: 'Anslutningen till rummet bröts – försöker igen…', online: 'Ansluten till rummet',
    visitors: 'besökare', visitor: 'Besökare', joinGuide: 'Följ en guide', guideCode: 'Guidekod', badGuideCode: 'Guidekoden gäller inte för den här utställningen.', lead: 'Led visning',
    failedLevel: 'En detaljnivå kunde inte laddas', help: 'W A S D: gå · dra: titta · klicka: välj eller gå dit',
    goal: { climate: 'Klimat', economic: 'Ekonomi', social: 'Socialt', democratic: 'Demokrati' },
    kinds: { 'street-lighting': 'Ljusnivå', 'smart-bin': 'Fyllnadsgrad', 'eye-tracking-screening': 'Screeningar', gauge: 'Värde' },
    sessions: 'screeningar', energySaved: 'energibesparing', compactions: 'komprimeringar', referred: 'remitterade', noReadings: 'Inga mätvärden ännu',
    turntable: 'Föremålet roterar. Dra för att vrida.', tour: 'Visning',
    search: 'Sök bland föremålen', noHits: 'Inga träffar', oneHit: '1 träff', hits: 'träffar', searchFailed: 'Sökningen misslyckades',
    programme: 'Stadens program', projects: 'projekt', filterByGoal: 'Filtrera efter mål', liveData: 'Mätvärden live',
    showInHall: 'Visa i salen', readMore: 'Läs mer',
    status: { planned: 'Planerat', ongoing: 'Pågår', completed: 'Avslutat', paused: 'Pausat' },
    comfort: 'Komfort', turning: 'Vridning', turn: { snap30: 'Steg 30°', snap45: 'Steg 45°', smooth: 'Mjuk' },
    turnSpeed: 'Hastighet för mjuk vridning', vignette: 'Mörka kanterna vid mjuk vridning', seated: 'Sittande (höjd i cm)',
    textSize: 'Textstorlek', on: 'På', off: 'Av', menuHint: 'B/Y på handkontrollen öppnar och stänger den här menyn.',
    schoolTerm: { autumn: 'höstterminen', spring: 'vårterminen' },
    figure: {
      energy_saved: 'Sparad energi', trips_avoided: 'Undvikna tömningsturer', screening_sessions: 'Screeningar',
      since: 'sedan', thisTerm: 'denna termin', atLeast: 'minst', co2: 'kg CO₂e', how: 'Hur räknas det?',
      howEnergy: 'Varje lampas ljusnivå × effekt ({power}) över tiden mellan mätvärdena, jämfört med samma lampor på full effekt under de timmar de lyste (mörker). Koldioxid: {factor} g CO₂e per kWh (nordisk elmix, IVL).',
      howTrips: 'En vanlig papperskorg lika stor som den komprimerande töms när den är full. Det lösa avfallet uppskattas ur fyllnadsgraden (en komprimering krymper innehållet till {ratio} %); turer en vanlig korg skulle behövt minus de verkliga tömningarna.',
      howSessions: 'Det senaste antalet för varje rapporterad dag, vecka eller månad i terminen. Antal 1–4 visas som <5 och räknas som 1.',
      severalPowers: 'lampornas egna effekter',
    },
    react: 'Reagera', reacted: 'reagerade med',
    reactions: { '👍': 'Tummen upp', '❤️': 'Hjärta', '👏': 'Applåder', '😮': 'Förvånad', '😂': 'Skratt', '❓': 'Fråga' },
  },
  en: {
    loading: 'Loading the exhibition…', enterVR: 'Enter VR', exitVR: 'Exit VR', objects: 'Objects',
    close: 'Close', language: 'Language', credit: 'Credit', licence: 'Licence', creator: 'Creator',
    date: 'Date', annotations: 'Details', tours: 'Tours', startTour: 'Start the tour',
    next: 'Next', previous: 'Previous', endTour: 'End the tour', speak: 'Read aloud',
    stop: 'Stop', of: 'of', liveValues: 'Live values', history: 'History',
    noWebGL: 'Your browser cannot show 3D (no WebGL). The objects are in the list.',
    offline: 'Lost the connection to the room – retrying…', online: 'Connected to the room',
    visitors: 'visitors', visitor: 'Visitor', joinGuide: 'Follow a guide', guideCode: 'Guide code', badGuideCode: 'That guide code is not valid for this exhibition.', lead: 'Lead a tour',
    failedLevel: 'A level of detail failed to load', help: 'W A S D: walk · drag: look · click: select or go there',
    goal: { climate: 'Climate', economic: 'Economy', social: 'Social', democratic: 'Democracy' },
    kinds: { 'street-lighting': 'Light level', 'smart-bin': 'Fill level', 'eye-tracking-screening': 'Screenings', gauge: 'Value' },
    sessions: 'screenings', energySaved: 'energy saved', compactions: 'compactions', referred: 'referred', noReadings: 'No readings yet',
    turntable: 'The object turns slowly. Drag to rotate it.', tour: 'Tour',
    search: 'Search the objects', noHits: 'No matches', oneHit: '1 match', hits: 'matches', searchFailed: 'The search failed',
    programme: "The city's programme", projects: 'projects', filterByGoal: 'Filter by goal', liveData: 'Live data',
    showInHall: 'Show in the hall', readMore: 'Read more',
    status: { planned: 'Planned', ongoing: 'Ongoing', completed: 'Completed', paused: 'Paused' },
    comfort: 'Comfort', turning: 'Turning', turn: { snap30: 'Snap 30°', snap45: 'Snap 45°', smooth: 'Smooth' },
    turnSpeed: 'Smooth turning speed', vignette: 'Darken the edges while turning smoothly', seated: 'Seated (height in cm)',
    textSize: 'Text size', on: 'On', off: 'Off', menuHint: 'B/Y on the controller opens and closes this menu.',
    schoolTerm: { autumn: 'autumn term', spring: 'spring term' },
    figure: {
      energy_saved: 'Energy saved', trips_avoided: 'Collection trips avoided', screening_sessions: 'Screenings',
      since: 'since', thisTerm: 'this term', atLeast: 'at least', co2: 'kg CO₂e', how: 'How is this computed?',
      howEnergy: "Each lamp's level × its power ({power}) over the time between readings, against the same lamps at full power for the hours they were lit (darkness). Carbon: {factor} g CO₂e per kWh (Nordic electricity mix, IVL).",
      howTrips: 'An ordinary bin of the same size, emptied when full. The loose waste is estimated from the fill readings (a compaction shrinks the content to {ratio} %): the trips an ordinary bin would have needed, minus the real collections.',
      howSessions: 'The newest count of each reported day, week or month in the term. Counts of 1–4 are shown as <5 and counted as 1.',
      severalPowers: "the lamps' own ratings",
    },
    react: 'React', reacted: 'reacted',
    reactions: { '👍': 'Thumbs up', '❤️': 'Heart', '👏': 'Applause', '😮': 'Surprised', '😂': 'Laughing', '❓': 'Question' },
  },
};

/** @param {string | null | undefined} tag */
const base = (tag) => String(tag).toLowerCase().split('-')[0];

/**
 * @param {string[]} available
 * @param {string} [fallback]
 */
export function chooseLanguage(available, fallback) {
  /** @type {string[]} */
  const wanted = [];
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (fromUrl) wanted.push(fromUrl);
  const stored = readPreference('lang');
  if (stored) wanted.push(stored);
  wanted.push(...(navigator.languages || [navigator.language || '']));
  const bases = available.map(base);
  for (const tag of wanted) {
    const i = bases.indexOf(base(tag));
    if (i >= 0) return available[i];
  }
  return fallback || available[0] || 'en';
}

/** @param {string} lang */
export function rememberLanguage(lang) {
  writePreference('lang', lang);
}

/**
 * A text object ({sv: …, en: …}) in the wanted language, falling back sensibly.
 * @param {Text} text
 * @param {string} lang
 * @param {string} [fallback]
 * @returns {string}
 */
export function pick(text, lang, fallback = 'en') {
  if (!text || typeof text !== 'object') return text == null ? '' : String(text);
  if (text[lang]) return text[lang];
  const b = base(lang);
  for (const [k, v] of Object.entries(text)) if (base(k) === b && v) return v;
  return text[fallback] || text.en || Object.values(text).find(Boolean) || '';
}

/**
 * A UI string: t('sv', 'close') or t('en', 'goal.climate').
 * @param {string} lang
 * @param {string} key
 * @returns {string}
 */
export function t(lang, key) {
  const table = UI[base(lang)] || UI.en;
  /** @param {Record<string, unknown>} tbl */
  const look = (tbl) => {
    /** @type {unknown} */
    let o = tbl;
    for (const k of key.split('.')) o = o && typeof o === 'object' ? /** @type {Record<string, unknown>} */ (o)[k] : undefined;
    return typeof o === 'string' ? o : undefined;
  };
  return look(table) ?? look(UI.en) ?? key;
}
