// Returns (partner leads and the coordinator): the organisation's figures and milestone statuses
// by quarter for one financial year, with sticky headers; a cell opens an editor right under its
// row to enter or correct it (an indicator_return record: POST, or PUT when it exists).

import { $, el, fill, icon } from './dom.js';
import { app } from './state.js';
import { getReturns, getRecord, createRecord, editRecord } from './api.js';
import { attempt, announce, showAlert } from './messages.js';
import { currentFy, fyLabel, quarterEnded, QUARTER_MONTHS } from './dates.js';
import { stateChip } from './chips.js';
import { parseNumber } from './fields.js';
import { showSummary, hideSummary, summaryTitle } from './errors.js';
import { showScreen } from './nav.js';

let fy = currentFy();
let data = null;      // GET /app/api/returns for fy
let editing = null;   // {indicator, quarter} whose editor is open
// A figure the tablet found far outside the organisation's own history: {indicator, quarter,
// text, message}; its editor then offers the tick "I have checked this figure".
let confirming = null;
let loadSeq = 0;

export async function openReturns() {
  editing = null;
  confirming = null;
  hideSummary('returns');
  await load();
  showScreen('returns', 'Returns');
}

async function load() {
  const seq = ++loadSeq;
  $('returns-body').setAttribute('aria-busy', 'true');
  const reply = await attempt(() => getReturns(fy));
  if (seq !== loadSeq) return;
  $('returns-body').removeAttribute('aria-busy');
  data = reply;
  render();
}

function orgLabel() {
  const w = app.state?.worker;
  return data?.org && w?.org === data.org ? w.org_label || w.org : data?.org || w?.org_label || '';
}

function render() {
  const now = currentFy();
  $('returns-prev').textContent = `Previous year (${fyLabel(fy - 1)})`;
  $('returns-next').textContent = `Next year (${fyLabel(fy + 1)})`;
  $('returns-next').disabled = fy >= now;
  $('returns-year').textContent = `Financial year ${fyLabel(fy)}`;
  if (!data) {
    $('returns-who').textContent = '';
    fill($('returns-body'), el('p', { text: 'The returns could not be loaded.' }));
    return;
  }
  $('returns-who').textContent = `${orgLabel()}: the figures and milestone statuses your ` +
    'organisation reports each quarter. Select a cell to enter or correct it.';
  const quarters = data.quarters?.length ? data.quarters : ['Q1', 'Q2', 'Q3', 'Q4'];
  const head = el('tr', {},
    el('th', { scope: 'col', class: 'col-indicator', text: 'Indicator' }),
    quarters.map((q) => el('th', { scope: 'col', class: 'col-quarter' },
      q, el('span', { class: 'months', text: QUARTER_MONTHS[q] ?? '' }))));
  const rows = [];
  for (const ind of data.indicators ?? []) {
    rows.push(el('tr', {},
      el('th', { scope: 'row', class: 'col-indicator' },
        el('span', { class: 'ind-label', text: ind.label }),
        el('span', { class: 'ind-kind', text: ind.kind === 'milestone' ? 'Milestone' : 'Figure' })),
      quarters.map((q) => el('td', { class: 'col-quarter' }, cellButton(ind, q)))));
    if (editing?.indicator === ind.id) rows.push(editorRow(ind, editing.quarter, quarters.length + 1));
  }
  fill($('returns-body'),
    el('div', { class: 'table-scroll', role: 'region', 'aria-labelledby': 'returns-caption',
      tabindex: '0' },
    el('table', { class: 'returns' },
      // Said by screen readers; the year is in view above the table.
      el('caption', { id: 'returns-caption', class: 'sr-only',
        text: `Returns for ${fyLabel(fy)}, by quarter` }),
      el('thead', {}, head),
      el('tbody', {}, rows))));
}

function cellOf(ind, quarter) {
  return data?.cells?.[ind.id]?.[quarter] ?? null;
}

function statusLabel(code) {
  return data?.statuses?.find((s) => s.code === code)?.label ?? String(code);
}

function cellText(ind, cell) {
  if (!cell) return '';
  if (ind.kind === 'milestone') return cell.status ? statusLabel(cell.status) : '';
  return cell.value === undefined || cell.value === null ? '' : String(cell.value);
}

// "20 Jul 2023" from the "2023-07-20" the app sends for a due date.
function dueDate(day) {
  const date = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
}

function cellButton(ind, quarter) {
  const cell = cellOf(ind, quarter);
  const text = cellText(ind, cell);
  // Not entered: due (the quarter has ended, the due date has not passed) or owed (it has).
  const expected = !text ? data?.owed?.[ind.id]?.[quarter] ?? null : null;
  const owed = expected?.state === 'owed' || (!data?.owed && !text && quarterEnded(fy, quarter));
  return el('button', {
    type: 'button',
    id: `cell-${ind.id}-${quarter}`,
    class: text ? 'cell entered' : 'cell empty',
    'aria-expanded': editing?.indicator === ind.id && editing?.quarter === quarter ? 'true' : 'false',
    onclick: () => openEditor(ind, quarter),
  },
  text ? el('span', { class: 'cell-value', text }) : el('span', { class: 'cell-none', text: 'Not entered' }),
  text && cell.state ? stateChip(cell.state) : null,
  owed ? el('span', { class: 'owed' }, icon('alert'), expected ? `Owed: due ${dueDate(expected.due)}` : 'Owed') : null,
  expected?.state === 'due' ? el('span', { class: 'due', text: `Due by ${dueDate(expected.due)}` }) : null);
}

function openEditor(ind, quarter) {
  editing = { indicator: ind.id, quarter };
  hideSummary('returns');
  render();
  ($('ret-input') ?? document.querySelector('#ret-fieldset input:checked') ??
    document.querySelector('#ret-fieldset input'))?.focus();
}

function closeEditor(focusId) {
  editing = null;
  confirming = null;
  hideSummary('returns');
  render();
  $(focusId)?.focus();
}

function editorRow(ind, quarter, span) {
  const cell = cellOf(ind, quarter);
  const where = `${quarter} ${fyLabel(fy)}`;
  const error = el('p', { class: 'field-error', id: 'ret-error', hidden: true });
  let control;
  let read;
  if (ind.kind === 'milestone') {
    const inputs = (data.statuses ?? []).map((status, i) => el('input', {
      type: 'radio', name: 'ret-status', id: `ret-status-${i}`, value: status.code,
      checked: cell?.status === status.code,
    }));
    control = el('fieldset', { class: 'question', id: 'ret-fieldset',
      'aria-describedby': 'ret-hint ret-error' },
    el('legend', { class: 'question-label', text: 'Status' }),
    el('p', { class: 'hint', id: 'ret-hint', text: `Where the milestone stands at the end of ${where}.` }),
    error,
    el('div', { class: 'chips' }, inputs.map((input, i) => el('label', { class: 'chip', for: input.id },
      input, el('span', { text: data.statuses[i].label })))));
    read = () => {
      const picked = inputs.find((i) => i.checked);
      return picked ? { fields: { status: picked.value }, text: statusLabel(picked.value) }
        : { error: 'Choose a status, or close without saving' };
    };
    control.focusTarget = () => inputs.find((i) => i.checked) ?? inputs[0];
  } else {
    const unusual = confirming?.indicator === ind.id && confirming?.quarter === quarter ? confirming : null;
    const input = el('input', { type: 'text', id: 'ret-input', inputmode: 'decimal',
      class: 'input-number', autocomplete: 'off', spellcheck: 'false',
      value: unusual ? unusual.text : cellText(ind, cell), 'aria-describedby': 'ret-hint ret-error' });
    // Offered once the tablet has said the figure looks unusual: ticking says it was checked.
    const tick = unusual ? el('input', { type: 'checkbox', id: 'ret-confirm' }) : null;
    control = el('div', { class: 'question' },
      el('label', { for: 'ret-input', class: 'question-label', text: 'Value' }),
      el('p', { class: 'hint', id: 'ret-hint', text: `Your figure for ${where}: a number, 0 or more.` }),
      error, input,
      tick ? el('label', { class: 'chip confirm-unusual', for: 'ret-confirm' }, tick,
        el('span', { text: 'I have checked this figure and it is right' })) : null);
    read = () => {
      const parsed = parseNumber(input.value, false);
      if (parsed.bad !== undefined) return { error: 'Value must be a number, like 12' };
      if (parsed.value === undefined) return { error: 'Enter the figure, or close without saving' };
      const fields = { value: parsed.value };
      if (tick?.checked) fields.unusual_confirmed = true;
      return { fields, text: String(parsed.value) };
    };
    control.focusTarget = () => input;
  }
  const setError = (message) => {
    error.replaceChildren();
    error.hidden = !message;
    control.classList.toggle('has-error', Boolean(message));
    if (message) error.append(el('span', { class: 'sr-only', text: 'Error: ' }), message);
  };
  const cellId = `cell-${ind.id}-${quarter}`;
  const save = async (event) => {
    const button = event.currentTarget;
    const got = read();
    if (got.error) {
      setError(got.error);
      showSummary('returns', summaryTitle(1), [{ message: got.error, target: control.focusTarget() }]);
      return;
    }
    button.disabled = true;
    try {
      const fields = { indicator: ind.id, fy, quarter, ...got.fields };
      if (cell?.record_id) {
        // Correcting: the record's other answers (a note) stay as they were; a new figure needs
        // its own tick.
        const record = await getRecord(cell.record_id);
        const merged = { ...record.fields, ...fields };
        delete merged[ind.kind === 'milestone' ? 'value' : 'status'];
        if (!got.fields.unusual_confirmed) delete merged.unusual_confirmed;
        await editRecord(cell.record_id, { fields: merged });
      } else {
        await createRecord({ form: 'indicator_return', fields });
      }
      editing = null;
      confirming = null;
      hideSummary('returns');
      await load();
      $(cellId)?.focus();
      announce(`Saved ${ind.label}, ${where}: ${got.text}. It will be sent at the next sync.`);
    } catch (failure) {
      button.disabled = false;
      if (failure.status === 401) return;
      const errors = failure.errors?.length ? failure.errors : [{ field: '', message: failure.message }];
      if (errors.some((e) => e.code === 'unusual') && !confirming) {
        // Ask for the tick, keeping what was typed, with the reason under the figure.
        confirming = { indicator: ind.id, quarter, text: got.text, message: errors[0].message };
        render();
        const again = document.querySelector('#ret-error');
        if (again) {
          again.hidden = false;
          again.replaceChildren(el('span', { class: 'sr-only', text: 'Error: ' }), confirming.message);
          again.closest('.question')?.classList.add('has-error');
        }
        showSummary('returns', summaryTitle(1), [{ message: confirming.message, target: $('ret-confirm') }]);
        return;
      }
      const own = errors.find((e) => e.field === 'value' || e.field === 'status');
      setError(own?.message ?? '');
      showSummary('returns', summaryTitle(errors.length), errors.map((e) => ({
        message: e.message,
        target: e === own ? control.focusTarget() : null,
      })));
    }
  };
  return el('tr', { class: 'editor-row' }, el('td', { colspan: span },
    el('div', { class: 'editor' },
      el('h2', { class: 'editor-title', text: `${ind.label}: ${where}` }),
      control,
      el('div', { class: 'editor-actions' },
        el('button', { type: 'button', class: 'big primary', text: 'Save', onclick: save }),
        el('button', { type: 'button', class: 'big secondary', text: 'Close without saving',
          onclick: () => closeEditor(cellId) })))));
}

export function wireReturns() {
  $('returns-prev').addEventListener('click', () => {
    fy -= 1;
    editing = null;
    hideSummary('returns');
    showAlert('');
    load();
  });
  $('returns-next').addEventListener('click', () => {
    if (fy >= currentFy()) return;
    fy += 1;
    editing = null;
    hideSummary('returns');
    showAlert('');
    load();
  });
}
