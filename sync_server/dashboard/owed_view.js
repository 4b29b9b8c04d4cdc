// Still owed (coordinator and board): per partner, the returns of the year that are owed (past
// their due date), due (not yet) or entered, and the reporting rate per quarter: returns entered by
// their due date out of those expected (docs/indicators.md, "What is still owed").

import { $, el } from './dom.js';
import { fyLabel } from './dates.js';
import { state } from './state.js';
import { api, query } from './api.js';
import { attempt } from './messages.js';

export async function loadOwed() {
  const body = $('owed-body');
  body.replaceChildren(el('p', { class: 'muted', text: 'Loading what is still owed…' }));
  const reply = await attempt(() => api(`/v1/owed?${query({ fy: state.fy })}`));
  if (!reply) {
    body.replaceChildren(el('p', { class: 'muted', text: 'What is still owed could not be loaded.' }));
    return;
  }
  renderOwed(reply);
}

// "20 Jul 2023" from "2023-07-20" (a date, not an instant).
export function dueDate(day) {
  const date = new Date(`${day}T12:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : date.toLocaleDateString('en-GB', { dateStyle: 'medium' });
}

function partnerName(owed, code) {
  return owed.org_labels?.[code] || code;
}

function renderOwed(owed) {
  const items = owed.items || [];
  if (!items.length) {
    $('owed-body').replaceChildren(el('p', { class: 'ok-box',
      text: `No returns are expected yet for ${fyLabel(owed.fy)}: no quarter has ended.` }));
    return;
  }
  const partners = Object.entries(owed.by_org || {})
    .map(([code, c]) => ({ code, name: partnerName(owed, code), ...c }))
    .sort((a, b) => b.owed - a.owed || b.due - a.due || a.name.localeCompare(b.name));
  const owing = partners.filter((p) => p.owed > 0);
  const summary = el('p', {
    class: owing.length ? 'warning-box' : 'ok-box',
    text: owing.length
      ? `${owing.length} of ${partners.length} partners owe returns past their due date.`
      : `Every partner has entered every return that is past its due date.`,
  });
  $('owed-body').replaceChildren(summary, rates(owed), partnerTable(partners),
    ...partners.filter((p) => p.owed + p.due > 0).map((p) => partnerDetails(owed, p, items)));
}

function rates(owed) {
  const entries = Object.entries(owed.rates || {});
  if (!entries.length) return el('p', { class: 'muted', text: 'No due date has passed yet this year.' });
  return el('p', {},
    el('strong', { text: 'Reporting rate' }), ' (returns entered by their due date): ',
    ...entries.flatMap(([q, r], i) => [i ? '; ' : '',
      `${q} ${r.rate}% (${r.on_time} of ${r.expected})`]));
}

function partnerTable(partners) {
  const head = ['Partner', 'Owed', 'Due', 'Entered'].map((h) => el('th', { scope: 'col', text: h }));
  const rows = partners.map((p) => el('tr', { class: p.owed ? 'row-warn' : null },
    el('th', { scope: 'row', text: p.name }),
    el('td', { class: 'num', text: String(p.owed) }),
    el('td', { class: 'num', text: String(p.due) }),
    el('td', { class: 'num', text: String(p.entered) })));
  return el('div', { class: 'scroll', role: 'region', 'aria-label': 'Returns per partner', tabindex: 0 },
    el('table', { class: 'owed' }, el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows)));
}

function partnerDetails(owed, partner, items) {
  const mine = items.filter((i) => i.org === partner.code && i.state !== 'entered')
    .sort((a, b) => (a.state === b.state ? 0 : a.state === 'owed' ? -1 : 1) ||
      a.quarter.localeCompare(b.quarter));
  return el('details', {},
    el('summary', { text: `${partner.name}: ${partner.owed} owed, ${partner.due} due` }),
    el('ul', { class: 'plain owed-list' }, mine.map((i) => el('li', {},
      el('span', { class: i.state === 'owed' ? 'badge badge-owed' : 'badge', text: i.state === 'owed' ? 'Owed' : 'Due' }),
      ' ', el('span', { text: `${i.quarter}: ${i.label}` }),
      el('span', { class: 'muted', text: ` — due by ${dueDate(i.due)}` })))));
}
