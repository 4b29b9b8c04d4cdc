// The quarterly return: loading it for the filters, and its tables of figures by priority and
// aim (with late marks, trends and, for coordinators, drill-down buttons).

import { $, el, appendAll, srOnly } from './dom.js';
import { QUARTERS, PERIODS, fyLabel, latestEndedQuarter, formatWhen } from './dates.js';
import { state, isCoordinator } from './state.js';
import { api, query } from './api.js';
import { announce, showError, attempt } from './messages.js';
import { groupIndicators, approvedQuarters, formatValue } from './report_data.js';
import { fillPrioritySelect } from './filters.js';
import { sparkline, travelMark } from './trend.js';
import { openDrill } from './drill_view.js';

// A filter changed: a new year or organisation needs a new report; the others re-render this one.
export function onFilterChange(event) {
  const { name, value } = event.target;
  if (name === 'fy') state.fy = Number(value);
  else state[name] = value;
  if (name === 'fy' || name === 'org') {
    loadReturn();
  } else {
    renderAll();
  }
}

export async function loadReturn({ quiet = false } = {}) {
  const seq = ++state.loadSeq;
  const body = $('return-body');
  $('panel-return').setAttribute('aria-busy', 'true');
  showError('');
  const params = query({ fy: state.fy, org: state.org, format: 'json' });
  const [report, approvals] = await Promise.all([
    attempt(() => api(`/v1/report?${params}`)),
    api(`/v1/approvals?${query({ fy: state.fy })}`).catch(() => null),
  ]);
  if (seq !== state.loadSeq) return;
  $('panel-return').removeAttribute('aria-busy');
  if (!report) {
    state.report = null;
    delete body.dataset.fy;
    delete body.dataset.org;
    body.replaceChildren(el('p', { class: 'muted', text: 'The return could not be loaded.' }));
    return;
  }
  state.report = report.report;
  // Older servers have no /v1/approvals: the report lists the approvals too.
  state.approvals = approvals?.approvals ?? (state.report.approvals || []).map((a) => ({
    fy: state.fy, quarter: a.quarter, kind: a.kind, by: a.user ?? a.by, at: a.at,
  }));
  fillPrioritySelect(state.report);
  renderAll();
  // What is on screen, for scripts and tests waiting for a filter change to land.
  body.dataset.fy = String(state.fy);
  body.dataset.org = state.org;
  if (!quiet) announce(`Quarterly return ${fyLabel(state.fy)} loaded.`);
}

// What renderAll() does after the return itself (set by app.js).
let afterRender = () => {};

export function onReturnRendered(handler) {
  afterRender = handler;
}

// Re-renders whatever depends on the report and the filters: the return here, then whatever
// app.js hooked on (the board pack or the review panel, when on screen).
function renderAll() {
  if (!state.report) return;
  renderReturn();
  afterRender();
}

// The quarters shown: one when the quarter filter is set, else all four.
function shownPeriods() {
  return state.quarter ? [state.quarter, 'year'] : PERIODS;
}

// The quarter whose move the direction-of-travel mark describes: the filtered quarter, else the
// latest that has ended (a quarter still running is incomplete), else Q1.
function markQuarter() {
  return state.quarter || latestEndedQuarter(state.fy) || 'Q1';
}

function previousQuarterName(quarter) {
  return quarter === 'Q1' ? 'last Q4' : QUARTERS[QUARTERS.indexOf(quarter) - 1];
}

function renderReturn() {
  const report = state.report;
  renderWarnings(report);
  renderApprovalsLine();
  const groups = groupIndicators(report, state.priority);
  const body = $('return-body');
  if (!groups.length) {
    body.replaceChildren(el('p', { text: 'No indicators match the filters.' }));
    return;
  }
  body.replaceChildren(...groups.map((group) => priorityBlock(group, { interactive: true })));
}

function renderWarnings(report) {
  const box = $('warnings');
  const warnings = isCoordinator() ? report.warnings || [] : [];
  if (!warnings.length) {
    box.replaceChildren();
    return;
  }
  // Devices behind, returns owed and figures that look wrong, each under its own heading.
  const groups = [
    ['Devices not synced since the quarter ended', warnings.filter((w) => w.startsWith('device '))],
    ['Returns past their due date (see Still owed)', warnings.filter((w) => w.includes(' still owes '))],
    ['Figures that look unusual', warnings.filter((w) => w.startsWith('unusual figure'))],
  ];
  const known = new Set(groups.flatMap(([, list]) => list));
  groups.push(['Other warnings', warnings.filter((w) => !known.has(w))]);
  // What is owed can be a line for every partner: folded, with its count, under its heading.
  const owed = groups[1][1];
  box.replaceChildren(...groups.filter(([, list]) => list.length).map(([title, list]) =>
    el('div', { class: 'warning-box' },
      el('h2', { text: title }),
      list === owed
        ? el('details', {},
          el('summary', { text: `${list.length} partner${list.length === 1 ? ' owes' : 's owe'} returns past their due date` }),
          el('ul', {}, list.map((w) => el('li', { text: w }))))
        : el('ul', {}, list.map((w) => el('li', { text: w }))))));
}

function renderApprovalsLine() {
  const approved = approvedQuarters();
  const parts = QUARTERS.filter((q) => approved.has(q)).map((q) => {
    const a = approved.get(q);
    return `${q} ${a.kind === 'restatement' ? 'restated' : 'approved'} by ${a.by} on ${formatWhen(a.at)}`;
  });
  $('approvals-line').textContent = parts.length
    ? `${parts.join('; ')}.`
    : `No quarter of ${fyLabel(state.fy)} has been approved yet: figures are live.`;
}

export function priorityBlock(group, options) {
  return el('section', { class: 'priority', 'aria-label': group.priority.label },
    el('h2', { class: 'priority-title', text: group.priority.label }),
    group.aims.map((aimGroup) => aimBlock(aimGroup, options)));
}

function directionWords(direction) {
  if (direction === 'decrease') return 'the plan wants a reduction';
  if (direction === 'increase') return 'the plan wants an increase';
  return '';
}

function aimBlock({ aim, indicators }, options) {
  const want = directionWords(aim.direction);
  const headingId = `aim-${aim.id}-${options.interactive ? 'r' : 'p'}`;
  return el('div', { class: 'aim' },
    el('h3', { id: headingId, text: `Aim: ${aim.label}` }),
    want ? el('p', { class: 'muted aim-direction', text: `(${want})` }) : null,
    el('div', { class: 'scroll', role: 'region', 'aria-labelledby': headingId, tabindex: 0 },
      indicatorTable(indicators, options)));
}

function indicatorTable(indicators, options) {
  const approved = approvedQuarters();
  const periods = options.interactive ? shownPeriods() : PERIODS;
  const mq = options.interactive ? markQuarter() : latestEndedQuarter(state.fy) || 'Q1';
  const head = el('tr', {},
    el('th', { scope: 'col', class: 'col-label', text: 'Indicator' }),
    periods.map((p) => el('th', { scope: 'col', class: 'num' },
      p === 'year' ? 'Year' : p,
      p !== 'year' && approved.has(p) ? el('span', { class: 'approved-tag', text: ' approved' }) : null)),
    el('th', { scope: 'col', class: 'col-spark', text: 'Trend Q1–Q4' }),
    el('th', { scope: 'col', class: 'col-mark', text: `${mq} vs ${previousQuarterName(mq)}` }));
  return el('table', { class: 'indicators' },
    el('thead', {}, head),
    el('tbody', {}, indicators.map((ind) => indicatorRow(ind, periods, mq, options))));
}

function indicatorRow(ind, periods, mq, options) {
  return el('tr', {},
    el('th', { scope: 'row', class: 'col-label' },
      el('span', { class: 'ind-label', text: ind.label }),
      el('span', { class: 'ind-id', text: ind.id })),
    periods.map((p) => figureCell(ind, p, options)),
    el('td', { class: 'spark-cell' }, sparkline(ind)),
    el('td', { class: 'mark-cell' }, travelMark(ind, mq)));
}

// A figure cell. The element carrying data-indicator/data-period holds only the figure's text:
// tests and scripts read it from there.
function figureCell(ind, period, options) {
  const value = ind.values?.[period] ?? null;
  const text = formatValue(ind, value);
  const hook = el('span', {
    class: 'fig',
    'data-indicator': options.interactive ? ind.id : null,
    'data-period': options.interactive ? period : null,
    text,
  });
  const unit = ind.kind === 'percent' && value !== null ? el('span', { class: 'unit', text: '%' }) : null;
  const late = ind.late?.[period];
  const lateMark = late === undefined ? null : el('span', { class: 'late' },
    el('span', { 'aria-hidden': 'true', text: '*' }),
    srOnly(` (late records would make it ${formatValue(ind, late)})`));
  // Approved under an earlier catalogue version whose definition was different: today's count.
  const redefined = ind.redefined?.[period];
  const redefinedMark = redefined === undefined ? null : el('span', { class: 'late redefined' },
    el('span', { 'aria-hidden': 'true', text: ` (now ${formatValue(ind, redefined)})` }),
    srOnly(` (approved under the earlier definition; counted today's way it is ${formatValue(ind, redefined)})`));
  const cell = el('td', { class: typeof value === 'string' ? 'num status' : 'num' });
  if (options.interactive && isCoordinator() && value !== null) {
    const what = period === 'year' ? `the year ${fyLabel(state.fy)}` : period;
    cell.append(el('button', {
      type: 'button',
      class: 'drill',
      'aria-label': `${text}${unit ? '%' : ''}: show the records behind ${ind.label}, ${what}`,
      onclick: () => openDrill(ind, period),
    }, hook, unit));
  } else {
    appendAll(cell, [hook, unit]);
  }
  appendAll(cell, [lateMark, redefinedMark]);
  return cell;
}
