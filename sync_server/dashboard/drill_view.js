// Drill-down (coordinator): the records behind a figure, in a dialog; sensitive fields are
// withheld by the server. A record's photo is a button that fetches it (the server audits each
// view) and shows it under the table; one not uploaded yet says so.

import { $, el, openDialog } from './dom.js';
import { fyLabel } from './dates.js';
import { state } from './state.js';
import { api, query } from './api.js';
import { cellText } from './report_data.js';

export async function openDrill(ind, period) {
  const dialog = $('drill-dialog');
  const quarter = period === 'year' ? '' : period;
  $('drill-title').textContent = `${ind.label}: ${period === 'year' ? 'year' : period} ${fyLabel(state.fy)}`;
  $('drill-summary').textContent = 'Loading the records…';
  $('drill-body').replaceChildren();
  openDialog(dialog);
  // Errors show inside the dialog: the page behind a modal dialog is inert.
  let explain;
  try {
    // With an org filter, the records behind that org's figure.
    explain = await api(`/v1/explain?${query({ indicator: ind.id, fy: state.fy, quarter,
      org: state.org })}`);
  } catch (error) {
    if (dialog.open) $('drill-summary').textContent = `The records could not be loaded: ${error.message}`;
    return;
  }
  if (!dialog.open) return;
  const details = explain.form ? await recordDetails(explain.form, quarter) : null;
  renderDrill(explain, details);
}

// The form's records as {columns, byId, withheld}, to add their fields to the drill-down. Optional:
// only when the server names the form the indicator counts.
async function recordDetails(form, quarter) {
  const table = await api(`/v1/records?${query({ form, fy: state.fy, quarter, org: state.org })}`)
    .catch(() => null);
  if (!table) return null;
  const idColumn = table.columns.indexOf('id');
  const byId = new Map(table.rows.map((row) => [row[idColumn], row]));
  return { columns: table.columns, byId, withheld: table.withheld || [],
    photos: table.attachments || {} };
}

function renderDrill(explain, details) {
  const records = explain.records || [];
  const columns = ['record_id', 'org'];
  for (const record of records) {
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  }
  const extra = details ? details.columns.filter((c) => !['id', 'org'].includes(c)) : [];
  // Photo columns first: the table scrolls sideways, and a photo is what the coordinator opens.
  const detailRows = [...details?.byId.values() ?? []];
  const photoColumns = new Set(extra.filter((c) => detailRows.some((row) =>
    PHOTO_NAME.test(String(row[details.columns.indexOf(c)] ?? '')))));
  extra.sort((a, b) => Number(photoColumns.has(b)) - Number(photoColumns.has(a)));
  const count = `${records.length} record${records.length === 1 ? '' : 's'}`;
  const withheld = details?.withheld.length ? ` Sensitive fields withheld: ${details.withheld.join(', ')}.` : '';
  $('drill-summary').textContent = `${count} behind this figure.${withheld}`;
  if (!records.length) {
    $('drill-body').replaceChildren();
    return;
  }
  const header = [...columns, ...extra].map((c) => el('th', { scope: 'col', text: c.replace(/_/g, ' ') }));
  const rows = records.map((record) => {
    const row = details?.byId.get(record.record_id);
    return el('tr', {},
      columns.map((c) => el('td', { text: cellText(record[c]) })),
      extra.map((c) => el('td', {}, row ? detailCell(row[details.columns.indexOf(c)],
        record.record_id, details.photos) : '')));
  });
  $('drill-body').replaceChildren(el('table', { class: 'records' },
    el('caption', { class: 'sr-only', text: count }),
    el('thead', {}, el('tr', {}, header)),
    el('tbody', {}, rows)),
    el('div', { id: 'drill-photo', class: 'drill-photo', 'aria-live': 'polite' }));
}

const PHOTO_NAME = /^[0-9a-f]{64}\.(jpg|png)$/;

// A cell of the form's own columns: a photo as a button (or "not uploaded yet"), else its text.
function detailCell(value, recordId, photos) {
  if (typeof value !== 'string' || !PHOTO_NAME.test(value)) return cellText(value);
  if (photos[value] !== 'stored') {
    return el('span', { class: 'muted', text: 'Not uploaded yet' });
  }
  return el('button', { type: 'button', class: 'secondary photo-button', text: 'View photo',
    onclick: () => showPhoto(value, recordId) });
}

// Fetches the photo with this browser's credential (an <img> could not send it) and shows it.
async function showPhoto(name, recordId) {
  const box = $('drill-photo');
  box.replaceChildren(el('p', { text: 'Loading the photo…' }));
  let blob;
  try {
    blob = await api(`/v1/attachments/${name}?${query({ record: recordId })}`, { as: 'blob' });
  } catch (error) {
    box.replaceChildren(el('p', { class: 'field-error', role: 'alert', text: `The photo could not be loaded: ${error.message}` }));
    return;
  }
  const url = URL.createObjectURL(blob);
  const img = el('img', { src: url, alt: `Photo of record ${recordId}`, class: 'drill-photo-img' });
  img.addEventListener('load', () => URL.revokeObjectURL(url), { once: true });
  box.replaceChildren(el('figure', {}, img,
    el('figcaption', { text: `Record ${recordId}. Viewing it is recorded in the audit log.` })));
  img.scrollIntoView({ block: 'nearest' });
}
