// A record's state, always an icon and a word (never colour alone), and answers written as a
// person reads them.

import { el, icon } from './dom.js';
import { formatWhen } from './dates.js';

const STATES = {
  not_sent: { word: 'Not sent yet', icon: 'clock' },
  sent: { word: 'Sent', icon: 'check' },
  needs_fixing: { word: 'Needs fixing', icon: 'alert' },
  draft: { word: 'Draft', icon: 'pencil' },
};

export function stateWord(state) {
  return STATES[state]?.word ?? String(state || '');
}

export function stateChip(state) {
  const known = STATES[state] ?? { word: stateWord(state), icon: 'clock' };
  return el('span', { class: `state-chip state-${state}` }, icon(known.icon), known.word);
}

// An answer as text: choice labels, Yes/No, UK time, a person key as a plain statement.
export function answerText(field, value) {
  if (value === undefined || value === null || value === '' ||
      (Array.isArray(value) && value.length === 0)) return '';
  if (field?.format === 'keyed_hash') return 'A person is linked (their name is not kept)';
  const label = (code) => field?.choices?.find((c) => c.code === code)?.label ?? String(code);
  switch (field?.type) {
    case 'boolean':
      if (value === true) return field.yes_label ?? 'Yes';
      return value === false ? field.no_label ?? 'No' : String(value);
    case 'select_one': return label(value);
    case 'select_multiple': return (Array.isArray(value) ? value : [value]).map(label).join(', ');
    case 'datetime': return formatWhen(value);
    case 'geopoint': return placeText(value);
    case 'image': return 'A photo';
    default: return String(value);
  }
}

// "51.06321, -1.31334 (within 12 m)": a place as a worker reads it.
function placeText(value) {
  const [lat, lon, accuracy] = String(value).trim().split(/\s+/);
  if (lon === undefined) return String(value);
  return `${lat}, ${lon}${accuracy === undefined ? '' : ` (within ${Math.round(Number(accuracy))} m)`}`;
}

// One line saying what a record or draft is about: its first answered, non-sensitive text or
// choice ("Market Street", "Closure Order").
export function summaryLine(form, fields = {}) {
  for (const field of form?.fields ?? []) {
    if (field.sensitive || field.format === 'keyed_hash') continue;
    if (!['text', 'select_one'].includes(field.type)) continue;
    const text = answerText(field, fields[field.name]);
    if (text) return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  }
  return '';
}
