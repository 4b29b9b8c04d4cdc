// Conflicts, late records and approving or restating a quarter (coordinator).

import { $, el, openDialog } from './dom.js';
import { QUARTERS, QUARTER_MONTHS, fyLabel, quarterEndMs, formatWhen, timeEl } from './dates.js';
import { state } from './state.js';
import { api, query } from './api.js';
import { announce, showError, attempt } from './messages.js';
import { approvedQuarters, formatValue, cellText } from './report_data.js';
import { loadReturn } from './return_view.js';
import { dueDate } from './owed_view.js';

export async function loadReview() {
  renderReview();
  const body = $('conflicts-body');
  body.replaceChildren(el('p', { class: 'muted', text: 'Loading conflicts…' }));
  const reply = await attempt(() => api('/v1/conflicts'));
  if (!reply) {
    body.replaceChildren(el('p', { class: 'muted', text: 'Conflicts could not be loaded.' }));
    return;
  }
  renderConflicts(reply.conflicts || []);
}

export function renderReview() {
  if (!state.report) return;
  renderApproveButtons();
  renderLate();
}

function renderApproveButtons() {
  const approved = approvedQuarters();
  const items = QUARTERS.map((q) => {
    const a = approved.get(q);
    const kind = a ? 'restatement' : 'approval';
    const status = a
      ? `${a.kind === 'restatement' ? 'Restated' : 'Approved'} by ${a.by} on ${formatWhen(a.at)}`
      : 'Not approved';
    return el('li', {},
      el('span', { class: 'q-name', text: `${q} (${QUARTER_MONTHS[q]})` }),
      el('span', { class: 'q-status', text: status }),
      el('button', {
        type: 'button',
        class: a ? 'secondary' : null,
        'data-approve': q,
        text: a ? `Restate ${q}` : `Approve ${q}`,
        onclick: () => confirmApproval(q, kind),
      }));
  });
  $('approve-body').replaceChildren(el('ul', { class: 'quarters plain' }, items));
}

function renderLate() {
  const rows = [];
  const quarters = new Set();
  for (const ind of state.report.indicators) {
    for (const [q, value] of Object.entries(ind.late || {})) {
      quarters.add(q);
      rows.push(el('tr', {},
        el('th', { scope: 'row' }, el('span', { text: ind.label }), el('span', { class: 'ind-id', text: ind.id })),
        el('td', { text: q }),
        el('td', { class: 'num', text: formatValue(ind, ind.values?.[q] ?? null) }),
        el('td', { class: 'num', text: formatValue(ind, value) })));
    }
  }
  if (!rows.length) {
    $('late-body').replaceChildren(el('p', { text: 'No late records change an approved figure.' }));
    return;
  }
  const head = ['Indicator', 'Quarter', 'Approved figure', 'With late records']
    .map((h) => el('th', { scope: 'col', text: h }));
  const buttons = QUARTERS.filter((q) => quarters.has(q)).map((q) => el('button', {
    type: 'button', 'data-restate': q, text: `Restate ${q}`, onclick: () => confirmApproval(q, 'restatement'),
  }));
  $('late-body').replaceChildren(
    el('div', { class: 'scroll', role: 'region', 'aria-label': 'Late records', tabindex: 0 },
      el('table', { class: 'late-table' }, el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows))),
    el('p', { class: 'actions' }, buttons));
}

function renderConflicts(conflicts) {
  if (!conflicts.length) {
    $('conflicts-body').replaceChildren(el('p', { text: 'No conflicts to review.' }));
    return;
  }
  const head = ['Record', 'Field', 'Kept', 'Lost', 'Kept from', 'Lost from', 'When']
    .map((h) => el('th', { scope: 'col', text: h }));
  const rows = conflicts.map((c) => el('tr', {},
    el('td', { class: 'mono', text: c.record_id }),
    el('td', { text: c.field }),
    el('td', { text: cellText(c.kept) }),
    el('td', { text: cellText(c.lost) }),
    el('td', { class: 'mono', text: c.kept_device }),
    el('td', { class: 'mono', text: c.lost_device }),
    el('td', {}, timeEl(c.at))));
  $('conflicts-body').replaceChildren(
    el('div', { class: 'scroll', role: 'region', 'aria-label': 'Conflicts', tabindex: 0 },
      el('table', { class: 'conflicts' }, el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows))));
}

// Shows the report's device warnings for the quarter, then approves only on confirmation.
async function confirmApproval(quarter, kind) {
  const dialog = $('approve-dialog');
  const verb = kind === 'restatement' ? 'Restate' : 'Approve';
  $('approve-title').textContent = `${verb} ${quarter} ${fyLabel(state.fy)}?`;
  const confirm = $('approve-confirm');
  confirm.textContent = `${verb} ${quarter}`;
  confirm.disabled = true;
  $('approve-warnings').replaceChildren(el('p', { text: 'Checking which devices have synced…' }));
  openDialog(dialog);
  // Warnings are about every org's devices, so this asks without the org filter.
  let reply;
  try {
    reply = await api(`/v1/report?${query({ fy: state.fy, quarter, format: 'json' })}`);
  } catch (error) {
    if (dialog.open) {
      $('approve-warnings').replaceChildren(el('p', { class: 'field-error', role: 'alert',
        text: `The device check failed: ${error.message}` }));
    }
    return;
  }
  if (!dialog.open) return;
  $('approve-warnings').replaceChildren(...approvalNotes(quarter, kind, reply.report));
  confirm.disabled = false;
  confirm.onclick = () => approve(quarter, dialog);
}

function approvalNotes(quarter, kind, report) {
  const notes = [];
  const orgName = (code) => report.org_labels?.[code] || code;
  // Device warnings; what is owed and unusual figures come as their own lists.
  const warnings = (report.warnings || []).filter((w) => w.startsWith('device '));
  if (quarterEndMs(state.fy, quarter) > Date.now()) {
    notes.push(el('p', { class: 'warning-box', text: `${quarter} ${fyLabel(state.fy)} has not ended yet.` }));
  }
  if (warnings.length) {
    notes.push(el('div', { class: 'warning-box' },
      el('p', { text: `${warnings.length} device${warnings.length === 1 ? ' has' : 's have'} not synced since ${quarter} ended and may hold records for it:` }),
      el('ul', {}, warnings.map((w) => el('li', { text: w })))));
  } else {
    notes.push(el('p', { class: 'ok-box', text: `Every device has synced since ${quarter} ended.` }));
  }
  const missing = report.owed?.items || [];
  if (missing.length) {
    const owedCount = missing.filter((i) => i.state === 'owed').length;
    notes.push(el('div', { class: 'warning-box' },
      el('p', { text: `${missing.length} partner return${missing.length === 1 ? ' is' : 's are'} not entered for ${quarter}` +
        (owedCount ? ` (${owedCount} past the due date):` : ':') }),
      el('ul', {}, missing.slice(0, 12).map((i) => el('li', { text: `${i.label} — ${orgName(i.org)} (${i.state === 'owed' ? 'owed' : 'due'} by ${dueDate(i.due)})` }))),
      missing.length > 12 ? el('p', { text: `… and ${missing.length - 12} more: see Still owed.` }) : null));
  }
  const unusual = report.unusual || [];
  if (unusual.length) {
    notes.push(el('div', { class: 'warning-box' },
      el('p', { text: `${unusual.length} figure${unusual.length === 1 ? ' looks' : 's look'} unusual against the owner's own history:` }),
      el('ul', {}, unusual.map((u) => el('li', { text: `${u.label} — ${orgName(u.org)}: ${u.value}. ${u.reason}.` })))));
  }
  if (state.org) {
    notes.push(el('p', { text: `This covers every organisation, not only ${orgName(state.org)}.` }));
  }
  notes.push(el('p', {
    text: kind === 'restatement'
      ? 'A restatement replaces the approved figures with the current ones, late records included. Every approval is kept.'
      : 'Approving freezes the figures shown for this quarter. Later records will show as late.',
  }));
  return notes;
}

async function approve(quarter, dialog) {
  $('approve-confirm').disabled = true;
  let reply;
  try {
    reply = await api('/v1/approve', { method: 'POST', body: { fy: state.fy, quarter } });
  } catch (error) {
    dialog.close();  // first, so that the alert below is not behind an inert page
    if (state.session) showError(error.message);
    return;
  }
  dialog.close();
  announce(`${reply.quarter} ${fyLabel(reply.fy)}: ${reply.kind === 'restatement' ? 'restated' : 'approved'}.`);
  await loadReturn({ quiet: true });
  renderReview();
}
