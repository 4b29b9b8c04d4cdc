// Drill-down (coordinator): the records behind a figure, in a dialog; sensitive fields are
// withheld by the server.

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
  return { columns: table.columns, byId, withheld: table.withheld || [] };
}

function renderDrill(explain, details) {
  const records = explain.records || [];
  const columns = ['record_id', 'org'];
  for (const record of records) {
    for (const key of Object.keys(record)) if (!columns.includes(key)) columns.push(key);
  }
  const extra = details ? details.columns.filter((c) => !['id', 'org'].includes(c)) : [];
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
      extra.map((c) => el('td', { text: row ? cellText(row[details.columns.indexOf(c)]) : '' })));
  });
  $('drill-body').replaceChildren(el('table', { class: 'records' },
    el('caption', { class: 'sr-only', text: count }),
    el('thead', {}, el('tr', {}, header)),
    el('tbody', {}, rows)));
}
