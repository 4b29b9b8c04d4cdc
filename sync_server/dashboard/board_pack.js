// Board pack: the whole return, read-only, laid out for printing.

import { $, el } from './dom.js';
import { QUARTERS, fyLabel, formatWhen } from './dates.js';
import { state } from './state.js';
import { prioritiesOf, groupIndicators, approvedQuarters } from './report_data.js';
import { priorityBlock } from './return_view.js';

export function renderPack() {
  const report = state.report;
  const body = $('pack-body');
  if (!report) {
    body.replaceChildren(el('p', { class: 'muted', text: 'The return is not loaded.' }));
    return;
  }
  const filters = [state.org && `organisation ${state.org}`,
    state.priority && `priority ${prioritiesOf(report).find((p) => p.id === state.priority)?.label}`]
    .filter(Boolean);
  const approved = approvedQuarters();
  body.replaceChildren(
    el('header', { class: 'pack-header' },
      el('h2', { text: `Quarterly return ${fyLabel(state.fy)}` }),
      el('p', { text: `Community Safety Partnership board pack. Produced ${formatWhen(new Date().toISOString())}` +
        `${filters.length ? `, ${filters.join(', ')}` : ''}; catalogue version ${report.catalogue_version ?? '–'}.` }),
      el('p', { text: QUARTERS.map((q) => `${q}: ${approved.has(q) ? 'approved' : 'not approved (live figures)'}`).join('; ') }),
      el('p', { class: 'legend', text: '▲/▼: the figure went up or down since the previous quarter; ' +
        '"improving" or "worsening": against the way the delivery plan wants it to move; ►: no change; ' +
        '*: late records would change an approved figure.' })),
    ...groupIndicators(report, state.priority).map((group) => priorityBlock(group, { interactive: false })));
}
