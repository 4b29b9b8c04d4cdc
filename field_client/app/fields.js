// One question of a form as a widget: built from the form's FIELD (docs/app-api.md), it reads its
// answer (with the page's own check of what was typed), writes one back, and shows an error.
//
//   const w = buildWidget(field);   // w.node goes into the page
//   w.read()  -> {value, draft, error}: value for the API (undefined when unanswered or wrong),
//                what a draft keeps (what was typed, even if wrong), and the page's message
//   w.write(value); w.setError(message); w.focusTarget(); w.setShown(bool)
//
// Inputs follow the GOV.UK patterns the design note cites: numbers are text inputs with a numeric
// keyboard (type=number changes values on scroll); yes/no and choices are native radios and
// checkboxes in a fieldset with a legend, nothing pre-selected, no <select>; dates are day, month
// and year boxes with quick choices.

import { el } from './dom.js';
import { isRealDate, isoUtc, londonParts, londonToUtcMs } from './dates.js';
import { question, errorSetter, changed, base } from './question.js';
import { placeWidget } from './place_widget.js';
import { photoWidget } from './photo_widget.js';

const LONG_LIST = 10;  // more choices than this get a "Find in the list" box

function textWidget(field) {
  const parts = question(field.name, field.label, field.help, field.required, false, field.lang);
  const long = (field.max_length ?? 2000) > 200;
  const control = el(long ? 'textarea' : 'input', {
    id: `f-${field.name}`,
    name: field.name,
    type: long ? null : 'text',
    rows: long ? 4 : null,
    autocomplete: 'off',
    'aria-describedby': parts.describedBy,
    'aria-required': field.required ? 'true' : null,
  });
  parts.wrapper.append(control);
  if (!long && field.places?.length) {
    // The partnership's named places, offered as the worker types; any other text is kept too.
    const list = el('datalist', { id: `places-${field.name}` },
      field.places.map((place) => el('option', { value: place.label, lang: field.lang })));
    control.setAttribute('list', list.id);
    parts.hint.append(' ', el('span', { class: 'places-hint',
      text: 'Start typing to pick one of the partnership\'s places, or type any other.' }));
    parts.wrapper.append(list);
  }
  return base(field, parts, () => [control], {
    read() {
      const value = control.value.trim();
      return { value: value || undefined, draft: value || undefined, error: '' };
    },
    write(value) { control.value = value === undefined || value === null ? '' : String(value); },
    focusTarget: () => control,
  });
}

// Numbers: what was typed is checked here, so that "abc" is answered in words before anything is
// sent; ranges are the app's to check (it is the authority).
export function parseNumber(text, integer) {
  const raw = text.trim();
  if (!raw) return { value: undefined };
  const plain = raw.replace(/[\s,]/g, '');
  const ok = integer ? /^[-+]?\d+$/.test(plain) : /^[-+]?(\d+\.?\d*|\.\d+)$/.test(plain);
  const value = Number(plain);
  if (!ok || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    return { value: undefined, bad: raw };
  }
  return { value };
}

export function numberMessage(label, integer) {
  return integer ? `${label} must be a whole number, like 3` : `${label} must be a number, like 2.5`;
}

function numberWidget(field) {
  const integer = field.type === 'integer';
  const parts = question(field.name, field.label, field.help, field.required, false, field.lang);
  const control = el('input', {
    id: `f-${field.name}`,
    name: field.name,
    type: 'text',
    inputmode: integer && !(field.min < 0) ? 'numeric' : 'decimal',
    class: 'input-number',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': parts.describedBy,
    'aria-required': field.required ? 'true' : null,
  });
  parts.wrapper.append(control);
  return base(field, parts, () => [control], {
    read() {
      const parsed = parseNumber(control.value, integer);
      if (parsed.bad !== undefined) {
        return { value: undefined, draft: parsed.bad, error: numberMessage(field.label, integer) };
      }
      return { value: parsed.value, draft: parsed.value, error: '' };
    },
    write(value) { control.value = value === undefined || value === null ? '' : String(value); },
    focusTarget: () => control,
  });
}

// Radios (select_one, boolean) or checkboxes (select_multiple) as chips in a fieldset.
function choiceWidget(field) {
  const multiple = field.type === 'select_multiple';
  const boolean = field.type === 'boolean';
  const choices = boolean
    ? [{ code: 'yes', label: field.yes_label ?? 'Yes' }, { code: 'no', label: field.no_label ?? 'No' }]
    : field.choices ?? [];
  const parts = question(field.name, field.label, field.help, field.required, true, field.lang);
  const inputs = [];
  const chips = choices.map((choice, i) => {
    const input = el('input', {
      type: multiple ? 'checkbox' : 'radio',
      id: `f-${field.name}-${i}`,
      name: `f-${field.name}`,
      value: choice.code,
    });
    inputs.push(input);
    return el('label', { class: 'chip', for: input.id }, input, el('span', { text: choice.label, lang: field.lang }));
  });
  const list = el('div', { class: boolean || choices.length <= 3 ? 'chips chips-row' : 'chips' }, chips);

  if (choices.length > LONG_LIST) {
    // A long list can be narrowed by typing; what is ticked always stays in view.
    const findId = `find-${field.name}`;
    const find = el('input', { id: findId, type: 'text', class: 'find', autocomplete: 'off',
      'data-no-draft': 'true' });
    find.addEventListener('input', () => {
      const words = find.value.trim().toLowerCase();
      chips.forEach((chip, i) => {
        chip.hidden = Boolean(words) && !inputs[i].checked &&
          !chip.textContent.toLowerCase().includes(words);
      });
    });
    parts.wrapper.append(el('div', { class: 'find-box' },
      el('label', { for: findId, class: 'part-label', text: 'Find in the list' }), find));
  }
  parts.wrapper.append(list);

  if (!multiple && !field.required) {
    // A radio cannot be unticked: an optional question gets a way back to "no answer".
    parts.wrapper.append(el('button', {
      type: 'button', class: 'secondary small', text: 'Clear answer',
      onclick: (event) => {
        for (const input of inputs) input.checked = false;
        changed(event.currentTarget);
      },
    }));
  }

  const toValue = (code) => (boolean ? code === 'yes' : code);
  return base(field, parts, () => inputs, {
    read() {
      const picked = inputs.filter((i) => i.checked).map((i) => toValue(i.value));
      const value = multiple ? (picked.length ? picked : undefined) : picked[0];
      return { value, draft: value, error: '' };
    },
    write(value) {
      const wanted = multiple ? (Array.isArray(value) ? value : []) : [value];
      const codes = wanted.map((v) => (boolean ? (v === true ? 'yes' : v === false ? 'no' : '') : v));
      for (const input of inputs) input.checked = codes.includes(input.value);
    },
    focusTarget: () => inputs.find((i) => i.checked) ?? inputs[0],
  });
}

// Day, month and year boxes (GOV.UK's date input), and optionally a time.
function dateBoxes(id, { time }) {
  const box = (part, label, cls) => {
    const input = el('input', {
      id: `f-${id}-${part}`, name: `${id}-${part}`, type: 'text', inputmode: 'numeric',
      class: cls, autocomplete: 'off', spellcheck: 'false',
    });
    return { input, node: el('div', { class: 'date-part' },
      el('label', { for: input.id, class: 'part-label', text: label }), input) };
  };
  const day = box('day', 'Day', 'w2');
  const month = box('month', 'Month', 'w2');
  const year = box('year', 'Year', 'w4');
  const parts = [day, month, year];
  let timeInput = null;
  if (time) {
    timeInput = el('input', { id: `f-${id}-time`, name: `${id}-time`, type: 'time', class: 'w-time' });
    parts.push({ input: timeInput, node: el('div', { class: 'date-part' },
      el('label', { for: timeInput.id, class: 'part-label', text: 'Time' }), timeInput) });
  }
  return {
    node: el('div', { class: 'date-boxes' }, parts.map((p) => p.node)),
    inputs: parts.map((p) => p.input),
    day: day.input, month: month.input, year: year.input, time: timeInput,
  };
}

// Reads day/month/year boxes: {empty} or {date: {year, month, day}} or {error}.
function readDate(boxes, label) {
  const texts = [boxes.day.value.trim(), boxes.month.value.trim(), boxes.year.value.trim()];
  const timeText = boxes.time ? boxes.time.value.trim() : '';
  if (texts.every((t) => !t) && !timeText) return { empty: true };
  const names = ['a day', 'a month', 'a year'];
  const missing = names.filter((_, i) => !texts[i]);
  if (boxes.time && !timeText) missing.push('a time');
  if (missing.length) {
    const list = missing.length > 1
      ? `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}` : missing[0];
    return { error: `${label} must include ${list}` };
  }
  const [day, month, year] = texts.map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
  if (texts[2].length !== 4) return { error: `${label} must have a 4-digit year, like 2023` };
  if (!isRealDate(year, month, day)) return { error: `${label} must be a real date` };
  let hour = 0;
  let minute = 0;
  if (boxes.time) {
    const match = /^(\d{1,2}):(\d{2})/.exec(timeText);
    if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) {
      return { error: `${label} must have a time like 21:30` };
    }
    hour = Number(match[1]);
    minute = Number(match[2]);
  }
  return { date: { year, month, day, hour, minute } };
}

const QUICK = [['Now', 0], ['30 minutes ago', 30], ['1 hour ago', 60], ['2 hours ago', 120]];

// A date and time in UK time, with quick choices; the value is ISO 8601 UTC.
function dateTimeWidget(field) {
  const parts = question(field.name, field.label, field.help, field.required, true, field.lang);
  const boxes = dateBoxes(field.name, { time: true });
  const write = (iso) => {
    const ms = iso ? Date.parse(iso) : NaN;
    if (Number.isNaN(ms)) {
      for (const input of boxes.inputs) input.value = '';
      return;
    }
    const p = londonParts(ms);
    boxes.day.value = String(p.day);
    boxes.month.value = String(p.month);
    boxes.year.value = String(p.year);
    boxes.time.value = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
  };
  const quick = el('div', { class: 'quick' }, QUICK.map(([label, minutes]) => el('button', {
    type: 'button', class: 'secondary', text: label,
    onclick: (event) => {
      write(isoUtc(Date.now() - minutes * 60_000));
      changed(event.currentTarget);
    },
  })));
  parts.wrapper.append(quick, boxes.node);
  if (!field.required) {
    parts.wrapper.append(el('button', {
      type: 'button', class: 'secondary small', text: 'Clear answer',
      onclick: (event) => { write(null); changed(event.currentTarget); },
    }));
  }
  return base(field, parts, () => boxes.inputs, {
    read() {
      const got = readDate(boxes, field.label);
      if (got.empty) return { value: undefined, draft: undefined, error: '' };
      if (got.error) return { value: undefined, draft: undefined, error: got.error };
      const { year, month, day, hour, minute } = got.date;
      const value = isoUtc(londonToUtcMs(year, month, day, hour, minute));
      return { value, draft: value, error: '' };
    },
    write,
    focusTarget: () => boxes.day,
  });
}

// When it happened: the record's occurred_at, now unless changed.
export function occurredWidget() {
  return dateTimeWidget({
    name: 'occurred_at',
    type: 'datetime',
    label: 'When it happened',
    help: 'UK time. It starts at now: change it if it happened earlier.',
    required: true,
  });
}

// A person key (format keyed_hash): the worker gives the person's name and date of birth, which
// the app turns into the key on the tablet. They are never put in a draft.
export function personWidget(field, { editing, existingKey }) {
  const parts = question('subject', 'Person (name and date of birth stay on this tablet)',
    editing
      ? (existingKey
        ? 'A person is linked to this record. Their name and date of birth were not kept, so ' +
          'they cannot be shown or changed here.'
        : 'No person is linked to this record.')
      : 'The tablet turns the name and date of birth into a person key and keeps neither. ' +
        'Leave both empty for an anonymous contact. They are never kept in a draft: if you ' +
        'leave this form before saving, enter them again.',
    false, true);
  parts.wrapper.classList.add('person');
  const widget = base(field, parts, () => [], {
    name: 'subject',
    person: true,
    read: () => ({ value: undefined, draft: undefined, error: '' }),
    write() {},
    focusTarget: () => parts.wrapper,
  });
  if (editing) {
    // The stored key travels back unchanged with the record's other answers.
    widget.keyValue = existingKey;
    parts.wrapper.tabIndex = -1;
    return widget;
  }
  const name = el('input', { id: 'f-subject-name', type: 'text', autocomplete: 'off',
    spellcheck: 'false', 'data-no-draft': 'true', 'aria-describedby': parts.describedBy });
  const dob = dateBoxes('subject-dob', { time: false });
  for (const input of dob.inputs) input.dataset.noDraft = 'true';
  const dobHintId = 'h-subject-dob';
  const dobSet = el('fieldset', { class: 'question nested', 'aria-describedby': dobHintId },
    el('legend', { class: 'part-legend', text: 'Date of birth' }),
    el('p', { class: 'hint', id: dobHintId, text: 'For example, 27 3 1990' }),
    dob.node);
  parts.wrapper.append(
    el('div', { class: 'date-part name-part' },
      el('label', { for: name.id, class: 'part-label', text: 'Name' }), name),
    dobSet);
  widget.setError = errorSetter(parts, () => [name, ...dob.inputs]);
  widget.focusTarget = () => name;
  widget.readSubject = () => {
    const given = name.value.trim();
    const date = readDate(dob, 'Date of birth');
    if (!given && date.empty) return { subject: undefined, error: '' };
    if (date.error) return { error: date.error };
    if (!given || date.empty) {
      return { error: "Enter both the person's name and date of birth, or leave both empty" };
    }
    const { year, month, day } = date.date;
    if (Date.UTC(year, month - 1, day) > Date.now()) {
      return { error: 'Date of birth must be in the past' };
    }
    const dobText = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    return { subject: { name: given, dob: dobText }, error: '' };
  };
  return widget;
}

export function buildWidget(field, options) {
  if (field.format === 'keyed_hash') return personWidget(field, options);
  switch (field.type) {
    case 'integer':
    case 'number':
      return numberWidget(field);
    case 'boolean':
    case 'select_one':
    case 'select_multiple':
      return choiceWidget(field);
    case 'datetime':
      return dateTimeWidget(field);
    case 'geopoint':
      return placeWidget(field);
    case 'image':
      return photoWidget(field, options);
    default:
      return textWidget(field);
  }
}
