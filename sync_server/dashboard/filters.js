// The filter form's choices: financial years, organisations and the report's priorities.

import { $, el } from './dom.js';
import { currentFy, fyLabel } from './dates.js';
import { state } from './state.js';
import { api } from './api.js';
import { announce } from './messages.js';
import { prioritiesOf } from './report_data.js';

export function fillFySelect() {
  const select = $('filter-fy');
  const last = currentFy(new Date()) + 1;
  for (let fy = last; fy >= 2020; --fy) {
    select.append(el('option', { value: fy, text: fyLabel(fy) }));
  }
  select.value = String(state.fy);
}

export async function loadOrgs() {
  const reply = await api('/v1/orgs').catch((error) => {
    announce(`The organisation filter is not available: ${error.message}`);
    return null;
  });
  if (!reply || !state.session) return;
  state.orgs = reply.orgs || [];
  const select = $('filter-org');
  select.replaceChildren(el('option', { value: '', text: 'All organisations' }),
    ...state.orgs.map((org) => el('option', { value: org, text: org })));
  select.value = state.org;
}

export function fillPrioritySelect(report) {
  const select = $('filter-priority');
  const priorities = prioritiesOf(report);
  select.replaceChildren(el('option', { value: '', text: 'All priorities' }),
    ...priorities.map((p) => el('option', { value: p.id, text: p.label })));
  if (!priorities.some((p) => p.id === state.priority)) state.priority = '';
  select.value = state.priority;
}
