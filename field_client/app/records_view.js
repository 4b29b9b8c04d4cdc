// My records: this worker's records with their state (Not sent yet, Sent, Needs fixing and why),
// filtered by form and state; one record's answers, and changing or deleting it.

import { $, el, fill, ask } from './dom.js';
import { app, mayChange } from './state.js';
import { getRecords, getRecord, deleteRecord } from './api.js';
import { attempt, announce } from './messages.js';
import { formatWhen, timeEl } from './dates.js';
import { stateChip, answerText, summaryLine } from './chips.js';
import { go, showScreen } from './nav.js';

const filter = { form: '', state: '' };
let loadSeq = 0;  // a slow answer must not overwrite a newer one

const STATE_FILTERS = [
  ['', 'All'], ['not_sent', 'Not sent yet'], ['sent', 'Sent'], ['needs_fixing', 'Needs fixing'],
];

function radioGroup(name, legend, options, current, onchange) {
  return el('fieldset', { class: 'question filter' },
    el('legend', { class: 'part-legend', text: legend }),
    el('div', { class: 'chips chips-row' }, options.map(([value, label], i) => {
      const input = el('input', { type: 'radio', name, id: `${name}-${i}`, value,
        checked: value === current, onchange: () => onchange(value) });
      return el('label', { class: 'chip', for: input.id }, input, el('span', { text: label }));
    })));
}

// From Home the list starts unfiltered; back from a record it keeps its filters.
export async function openRecords({ keepFilters = false } = {}) {
  if (!keepFilters) {
    filter.form = '';
    filter.state = '';
  }
  const forms = [['', 'All forms'], ...app.forms.map((f) => [f.form, f.label])];
  if (!forms.some(([value]) => value === filter.form)) filter.form = '';
  fill($('records-filters'),
    radioGroup('filter-form', 'Form', forms, filter.form, (value) => {
      filter.form = value;
      loadList();
    }),
    radioGroup('filter-state', 'State', STATE_FILTERS, filter.state, (value) => {
      filter.state = value;
      loadList();
    }));
  $('records-list').replaceChildren();
  $('records-count').textContent = 'Loading…';
  showScreen('records', 'My records');
  await loadList();
}

async function loadList() {
  const seq = ++loadSeq;
  const list = $('records-list');
  list.setAttribute('aria-busy', 'true');
  const reply = await attempt(() => getRecords(filter.form));
  if (seq !== loadSeq) return;
  list.removeAttribute('aria-busy');
  if (!reply) {
    $('records-count').textContent = 'The records could not be loaded.';
    return;
  }
  const records = reply.records.filter((r) => r.mine && (!filter.state || r.state === filter.state));
  $('records-count').textContent = records.length === 1 ? '1 record' : `${records.length} records`;
  fill(list, ...records.map(recordCard));
}

function recordCard(record) {
  const form = app.formsByName.get(record.form);
  const about = summaryLine(form, record.fields);
  return el('li', { class: 'card' },
    el('h2', { class: 'card-title', text: record.form_label || form?.label || record.form }),
    el('p', { class: 'card-line' }, timeEl(record.occurred_at), about ? ` · ${about}` : ''),
    el('p', { class: 'card-line' }, stateChip(record.state),
      record.reason ? el('span', { class: 'reason', text: ` ${record.reason}` }) : null),
    el('div', { class: 'card-actions' },
      el('button', { type: 'button', class: 'secondary', text: 'Open',
        onclick: () => go('record', record.id) })));
}

const PHOTO_STATES = {
  uploaded: 'sent to the partnership',
  waiting: 'on this tablet, not sent yet',
  elsewhere: 'taken on another tablet',
};

// One record: every answer, its state, and what this worker may do with it.
export async function openRecord(id) {
  const record = await attempt(() => getRecord(id));
  if (!record) return;
  const form = app.formsByName.get(record.form);
  const fieldsByName = new Map((form?.fields ?? []).map((f) => [f.name, f]));
  const rows = [['When it happened', formatWhen(record.occurred_at)]];
  for (const field of form?.fields ?? []) {
    let text = answerText(field, record.fields?.[field.name]);
    // A photo: where it is, in words (docs/app-api.md, "photos").
    const where = field.type === 'image' ? record.photos?.[record.fields?.[field.name]] : null;
    if (where) text = `${text}: ${PHOTO_STATES[where] ?? where}`;
    // The photo itself, read back from this tablet's store, when it is on this tablet.
    const photo = ['uploaded', 'waiting'].includes(where)
      ? el('img', { class: 'photo-preview', alt: `Photo for ${field.label}`,
        src: `/app/api/photos/${encodeURIComponent(record.fields[field.name])}` })
      : null;
    if (text) rows.push([field.label, text, photo]);
  }
  for (const [name, value] of Object.entries(record.fields ?? {})) {
    if (!fieldsByName.has(name)) rows.push([name, answerText(null, value)]);  // an older version's
  }
  if (record.author) rows.push(['Entered by', record.author]);

  const changeable = mayChange(record) && form;
  const fixing = record.state === 'needs_fixing';
  $('record-title').textContent = record.form_label || form?.label || record.form;
  fill($('record-body'),
    el('p', { class: 'card-line' }, stateChip(record.state),
      record.reason ? el('span', { class: 'reason', text: ` ${record.reason}` }) : null),
    el('dl', { class: 'answers' }, rows.map(([label, text, photo]) => el('div', { class: 'answer' },
      el('dt', { text: label }), el('dd', {}, text, photo)))),
    el('div', { class: 'record-actions' },
      changeable ? el('button', { type: 'button', class: 'big primary', text: fixing ? 'Fix' : 'Edit',
        onclick: () => go('form', form, { record, fix: fixing, returnTo: 'record' }) }) : null,
      changeable ? el('button', { type: 'button', class: 'big danger', text: 'Delete',
        onclick: () => confirmDelete(record) }) : null,
      el('button', { type: 'button', class: 'big secondary', text: 'My records',
        onclick: () => go('records', { keepFilters: true }) })));
  showScreen('record', record.form_label || 'Record');
}

async function confirmDelete(record) {
  const choice = await ask({
    title: 'Delete this record?',
    text: 'A delete is final: the record is removed from this tablet now, and from the ' +
      "partnership's records at the next sync.",
    buttons: [
      { label: 'Delete record', value: 'delete', kind: 'danger' },
      { label: 'Keep record', value: 'keep', kind: 'secondary' },
    ],
  });
  if (choice !== 'delete') return;
  if (!(await attempt(() => deleteRecord(record.id)))) return;
  await go('records', { keepFilters: true });
  announce('Record deleted. The delete is sent at the next sync.');
}
