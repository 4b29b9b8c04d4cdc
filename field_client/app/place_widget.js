// A place question (type geopoint): "Use my location" asks the tablet where it is and says how
// accurately; latitude and longitude boxes are the fallback when there is no fix, location is
// turned off, or the worker records a place they are not standing in. The answer is the text the
// core keeps, "LATITUDE LONGITUDE [ACCURACY]" (docs/forms.md): the accuracy only while the boxes
// still hold what the tablet measured.

import { el } from './dom.js';
import { question, errorSetter, changed, base } from './question.js';

// Ask for a fresh fix, but take one up to a minute old (the worker has not moved far); give up
// after 20 seconds, which is a long time to stand on a street.
const FIX = { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 };
// A fix less accurate than this is shown with a warning (mobile masts, not GPS).
const ROUGH_M = 100;
// Beyond this a "fix" is a guess from the network, not a place: the core refuses it
// (tunables::kMaxGeopointAccuracyM), so the app says so instead of filling the boxes.
const USELESS_M = 100_000;
// The browser may never answer (a permission prompt dismissed): the button comes back after this.
const GIVE_UP_MS = FIX.timeout + 5_000;

const WHY_NOT = {
  1: 'Location is turned off for this app. Type the place in the boxes below, or allow ' +
    'location for this app and try again.',
  2: 'The tablet cannot tell where it is just now (no GPS signal). Try again in the open, or ' +
    'type the place in the boxes below.',
  3: 'Finding where you are took too long. Try again, or type the place in the boxes below.',
};

const degrees = (value) => String(Number(value.toFixed(6)));

function metres(accuracy) {
  return accuracy >= 1000 ? `${(accuracy / 1000).toFixed(1)} km` : `${Math.round(accuracy)} m`;
}

// A coordinate box's text as a number within its bounds: {value}, {empty}, or {error}.
function readCoordinate(text, name, limit) {
  const raw = text.trim().replace(',', '.');
  if (!raw) return { empty: true };
  const value = Number(raw);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(raw) || !Number.isFinite(value)) {
    return { error: `${name} must be a number of degrees, like ${limit === 90 ? '51.06321' : '-1.31334'}` };
  }
  if (Math.abs(value) > limit) return { error: `${name} must be between -${limit} and ${limit}` };
  return { value };
}

export function placeWidget(field) {
  const parts = question(field.name, field.label, field.help, field.required, true, field.lang);
  const box = (part, label) => {
    // A full keyboard: decimal keypads on some tablets have no minus sign, and Winchester's
    // longitudes are negative.
    const input = el('input', {
      id: `f-${field.name}-${part}`, type: 'text', autocomplete: 'off',
      spellcheck: 'false', class: 'input-coordinate', 'aria-describedby': parts.describedBy,
    });
    return { input, node: el('div', { class: 'date-part' },
      el('label', { for: input.id, class: 'part-label', text: label }), input) };
  };
  const latitude = box('lat', 'Latitude');
  const longitude = box('lon', 'Longitude');
  const status = el('p', { class: 'hint place-status', id: `s-${field.name}`, role: 'status' });
  const locate = el('button', { type: 'button', class: 'secondary', text: 'Use my location',
    'aria-describedby': status.id });
  // What the tablet measured, kept while the boxes still show it.
  let measured = null;

  const setStatus = (text, rough = false) => {
    status.textContent = text;
    status.classList.toggle('warning', rough);
  };
  const show = (lat, lon) => {
    latitude.input.value = lat;
    longitude.input.value = lon;
  };

  let asking = 0;  // which request the answer is for: a later tap or giving up ends the earlier
  locate.addEventListener('click', () => {
    if (!navigator.geolocation) {
      setStatus('This browser cannot give the location. Type the place in the boxes below.');
      return;
    }
    const request = ++asking;
    const typedBefore = `${latitude.input.value}|${longitude.input.value}`;
    locate.disabled = true;
    setStatus('Finding where you are…');
    const giveUp = setTimeout(() => {
      if (request !== asking) return;
      asking += 1;
      locate.disabled = false;
      setStatus(WHY_NOT[3], true);
    }, GIVE_UP_MS);
    navigator.geolocation.getCurrentPosition((position) => {
      clearTimeout(giveUp);
      if (request !== asking) return;
      locate.disabled = false;
      const { latitude: lat, longitude: lon, accuracy } = position.coords;
      if (!(accuracy <= USELESS_M)) {
        setStatus('The tablet only guessed where you are (to within more than 100 km). Move ' +
          'into the open and try again, or type the place in the boxes below.', true);
        return;
      }
      if (`${latitude.input.value}|${longitude.input.value}` !== typedBefore) {
        // The worker typed while the tablet looked: what they typed stands.
        setStatus('Found a location, but you have typed one meanwhile: yours is kept. Tap Use my ' +
          'location again to use the tablet\'s instead.');
        return;
      }
      measured = { lat: degrees(lat), lon: degrees(lon), accuracy: Math.round(accuracy * 10) / 10 };
      show(measured.lat, measured.lon);
      const at = new Date(position.timestamp).toLocaleTimeString('en-GB',
        { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' });
      const rough = accuracy > ROUGH_M;
      setStatus(rough
        ? `Found, but only to within ${metres(accuracy)} (at ${at}). Move into the open and try ` +
          'again, or type the place.'
        : `Found: within ${metres(accuracy)}, at ${at}.`, rough);
      changed(latitude.input);
    }, (error) => {
      clearTimeout(giveUp);
      if (request !== asking) return;
      locate.disabled = false;
      setStatus(WHY_NOT[error.code] ?? WHY_NOT[2], true);
    }, FIX);
  });
  // Typing over a measured place makes it a typed one: its accuracy no longer applies.
  for (const input of [latitude.input, longitude.input]) {
    input.addEventListener('input', () => {
      if (measured) setStatus('Typed in: the accuracy the tablet measured no longer applies.');
      measured = null;
    });
  }

  parts.wrapper.append(
    el('div', { class: 'place-locate' }, locate, status),
    el('div', { class: 'date-boxes place-boxes' }, latitude.node, longitude.node));
  const widget = base(field, parts, () => [latitude.input, longitude.input], {
    read() {
      // A draft keeps each box in its place, even when one is empty or wrong.
      const typed = JSON.stringify({ lat: latitude.input.value.trim(),
        lon: longitude.input.value.trim() });
      const lat = readCoordinate(latitude.input.value, 'Latitude', 90);
      const lon = readCoordinate(longitude.input.value, 'Longitude', 180);
      if (lat.empty && lon.empty) return { value: undefined, draft: undefined, error: '' };
      const error = lat.error ?? lon.error ??
        (lat.empty || lon.empty ? `${field.label}: give both latitude and longitude, or neither` : '');
      if (error) return { value: undefined, draft: typed, error };
      const value = `${degrees(lat.value)} ${degrees(lon.value)}` +
        (measured ? ` ${measured.accuracy}` : '');
      return { value, draft: value, error: '' };
    },
    write(value) {
      const text = String(value ?? '').trim();
      if (text.startsWith('{')) {  // a draft of what was typed, box by box
        let boxes = {};
        try { boxes = JSON.parse(text); } catch { /* not a draft after all: empty boxes */ }
        show(String(boxes.lat ?? ''), String(boxes.lon ?? ''));
        measured = null;
        setStatus('');
        return;
      }
      const [lat = '', lon = '', accuracy] = text.split(/\s+/);
      show(lat, lon);
      const known = Number(accuracy);
      measured = accuracy !== undefined && Number.isFinite(known) && known >= 0 && known <= USELESS_M
        ? { lat, lon, accuracy: known } : null;
      setStatus(measured ? `Measured by the tablet: within ${metres(measured.accuracy)}.` : '');
    },
    focusTarget: () => latitude.input,
  });
  widget.setError = errorSetter(parts, () => [latitude.input, longitude.input]);
  return widget;
}
