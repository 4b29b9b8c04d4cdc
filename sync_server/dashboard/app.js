// Beatbook dashboard: the coordinator's and the board's view of the quarterly return.
//
// Plain ES module, no framework and no build step; sync_server serves this file as it is, under a
// strict Content-Security-Policy (no inline scripts or style attributes), so every node is built
// with the DOM API and text is only ever set through textContent (server data is never parsed as
// HTML). The API is docs/protocol.md section 3; the report's shape is docs/indicators.md.

const STORAGE_KEY = 'beatbook.credential';
const QUARTERS = ['Q1', 'Q2', 'Q3', 'Q4'];
const PERIODS = [...QUARTERS, 'year'];
const QUARTER_MONTHS = { Q1: 'Apr–Jun', Q2: 'Jul–Sep', Q3: 'Oct–Dec', Q4: 'Jan–Mar' };
const DASHBOARD_ROLES = ['coordinator', 'board'];
const SVG_NS = 'http://www.w3.org/2000/svg';
const TZ = 'Europe/London';

const state = {
  session: null,     // {credential, device_id, user, org, role}
  report: null,      // the last REPORT for state.fy / state.org
  approvals: null,   // GET /v1/approvals, or the report's own list when that is unavailable
  orgs: [],
  fy: currentFy(new Date()),
  priority: '',
  org: '',
  quarter: '',
  loadSeq: 0,        // guards against a slow response overwriting a newer one
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// DOM helpers

// el('td', {class: 'x', text: '3', 'data-period': 'Q1'}, child, 'text', ...)
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  appendAll(node, children);
  return node;
}

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.setAttribute('class', value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

function appendAll(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

function srOnly(text) {
  return el('span', { class: 'sr-only', text });
}

// ---------------------------------------------------------------------------------------------
// Dates: the UK financial year (April to March) and its quarters, in Europe/London.

function currentFy(date) {
  return date.getMonth() >= 3 ? date.getFullYear() : date.getFullYear() - 1;
}

function fyLabel(fy) {
  return `${fy}/${String((fy + 1) % 100).padStart(2, '0')}`;
}

// When a quarter ends, in ms since the epoch: local midnight at the start of the next quarter.
// April, July and October start in BST (UTC+1), January in GMT.
function quarterEndMs(fy, quarter) {
  const hour = 3600 * 1000;
  switch (quarter) {
    case 'Q1': return Date.UTC(fy, 6, 1) - hour;
    case 'Q2': return Date.UTC(fy, 9, 1) - hour;
    case 'Q3': return Date.UTC(fy + 1, 0, 1);
    default: return Date.UTC(fy + 1, 3, 1) - hour;
  }
}

// The latest quarter of fy that has ended by now, or null when none has.
function latestEndedQuarter(fy, now = Date.now()) {
  for (let i = QUARTERS.length - 1; i >= 0; --i) {
    if (quarterEndMs(fy, QUARTERS[i]) <= now) return QUARTERS[i];
  }
  return null;
}

function formatWhen(iso) {
  if (!iso) return 'never';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: TZ });
}

function timeEl(iso) {
  if (!iso) return el('span', { text: 'never' });
  return el('time', { datetime: iso, text: formatWhen(iso) });
}

// ---------------------------------------------------------------------------------------------
// Session: the device credential from enrolment, kept in localStorage.

function loadSession() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (stored && typeof stored.credential === 'string' && DASHBOARD_ROLES.includes(stored.role)) {
      return stored;
    }
  } catch {
    // A damaged entry is treated as signed out.
  }
  localStorage.removeItem(STORAGE_KEY);
  return null;
}

function saveSession(session) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

function isCoordinator() {
  return state.session?.role === 'coordinator';
}

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// fetch with the credential; resolves to JSON (or a Blob), rejects with an ApiError carrying the
// server's message. A 401, or a 403 device_revoked, means this browser's credential is no longer
// good: sign out and say why.
async function api(path, { method = 'GET', body, as = 'json', auth = true } = {}) {
  const headers = {};
  if (auth && state.session) headers.Authorization = `Bearer ${state.session.credential}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError('The server could not be reached. Check the connection and try again.', 0,
      'network');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    const signedOut = response.status === 401 || error.code === 'device_revoked';
    if (auth && state.session && signedOut) signOut(error.message);
    throw error;
  }
  return as === 'blob' ? response.blob() : response.json();
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status} ${response.statusText}.`.replace(' .', '.');
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    if (body?.error?.code) code = body.error.code;
  } catch {
    // Not JSON: keep the generic message.
  }
  return new ApiError(message, response.status, code);
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && value !== undefined && value !== null) search.set(key, value);
  }
  return search.toString();
}

// ---------------------------------------------------------------------------------------------
// Messages (aria-live regions)

function announce(message) {
  const status = $('status');
  // Emptied first so that the same message twice is announced twice.
  status.textContent = '';
  requestAnimationFrame(() => { status.textContent = message; });
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

// Runs an action, showing its failure in the alert region. Returns undefined on failure.
async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    // Once signed out the sign-in form shows the message; do not repeat it above.
    if (state.session) showError(error.message);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /(Edg|Firefox|Chrome|Chromium|Safari)\/(\d+)/.exec(ua);
  const os = /(Windows|Android|iPad|iPhone|Mac OS X|CrOS|Linux)/.exec(ua);
  const name = browser ? `${browser[1] === 'Edg' ? 'Edge' : browser[1]} ${browser[2]}` : 'browser';
  return `dashboard (${name}${os ? ` on ${os[1]}` : ''})`;
}

async function signIn(token) {
  const errorBox = $('signin-error');
  errorBox.textContent = '';
  if (!token) {
    errorBox.textContent = 'Enter the sign-in code.';
    $('signin-token').focus();
    return;
  }
  const submit = $('signin-submit');
  submit.disabled = true;
  try {
    const reply = await api('/v1/enrol', {
      method: 'POST',
      auth: false,
      body: { token, device_name: deviceName(), client: 'dashboard' },
    });
    // The server refuses other roles for the dashboard; this is a second line, not the control.
    if (!DASHBOARD_ROLES.includes(reply.role)) {
      errorBox.textContent =
        `This sign-in code is for a ${reply.role}; the dashboard is for coordinators and board members.`;
      return;
    }
    state.session = {
      credential: `${reply.device_id}.${reply.secret}`,
      device_id: reply.device_id,
      user: reply.user,
      org: reply.org,
      role: reply.role,
    };
    saveSession(state.session);
    $('signin-token').value = '';
    showApp();
    $('app-title').focus();  // the sign-in form is gone: start the keyboard from the top
  } catch (error) {
    errorBox.textContent = error.message;
    $('signin-token').focus();
  } finally {
    submit.disabled = false;
  }
}

function signOut(message = '') {
  localStorage.removeItem(STORAGE_KEY);
  state.session = null;
  state.report = null;
  state.approvals = null;
  state.priority = state.org = state.quarter = '';
  for (const id of ['filter-priority', 'filter-org', 'filter-quarter']) $(id).value = '';
  state.loadSeq += 1;  // drops any response still on its way
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  for (const id of ['return-body', 'pack-body', 'sync-body', 'approve-body', 'late-body',
    'conflicts-body', 'warnings']) {
    $(id).replaceChildren();
  }
  showError('');
  showSignin(message);
}

function showSignin(message = '') {
  $('app').hidden = true;
  $('who').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
  document.title = 'Sign in – Beatbook dashboard';
  $('signin-token').focus();
}

function showApp() {
  const { user, org, role } = state.session;
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-text').textContent = `${user} (${org}, ${role === 'board' ? 'board member' : role})`;
  // Board members read only: the coordinator's tabs and panels stay hidden and are never loaded
  // (the server refuses those endpoints to them anyway).
  for (const node of document.querySelectorAll('[data-coordinator]')) {
    node.hidden = !isCoordinator() || node.getAttribute('role') === 'tabpanel';
  }
  $('drill-hint').hidden = !isCoordinator();
  selectTab($('tab-return'), false);
  document.title = 'Beatbook dashboard';
  loadOrgs();
  loadReturn();
}

// ---------------------------------------------------------------------------------------------
// Tabs (WAI-ARIA tabs pattern: arrow keys move between tabs, Tab moves into the panel)

function visibleTabs() {
  return [...document.querySelectorAll('#tabs [role="tab"]')].filter((tab) => !tab.hidden);
}

function selectTab(tab, focus = true) {
  for (const other of visibleTabs()) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
  const loaders = { 'tab-sync': loadSync, 'tab-review': loadReview, 'tab-pack': renderPack };
  loaders[tab.id]?.();
}

function onTabKey(event) {
  const tabs = visibleTabs();
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return;
  const moves = {
    ArrowRight: (index + 1) % tabs.length,
    ArrowLeft: (index - 1 + tabs.length) % tabs.length,
    Home: 0,
    End: tabs.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[moves[event.key]]);
}

function activeTabId() {
  return visibleTabs().find((tab) => tab.getAttribute('aria-selected') === 'true')?.id;
}

// ---------------------------------------------------------------------------------------------
// Filters

function fillFySelect() {
  const select = $('filter-fy');
  const last = currentFy(new Date()) + 1;
  for (let fy = last; fy >= 2020; --fy) {
    select.append(el('option', { value: fy, text: fyLabel(fy) }));
  }
  select.value = String(state.fy);
}

async function loadOrgs() {
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

function fillPrioritySelect(report) {
  const select = $('filter-priority');
  const priorities = prioritiesOf(report);
  select.replaceChildren(el('option', { value: '', text: 'All priorities' }),
    ...priorities.map((p) => el('option', { value: p.id, text: p.label })));
  if (!priorities.some((p) => p.id === state.priority)) state.priority = '';
  select.value = state.priority;
}

function onFilterChange(event) {
  const { name, value } = event.target;
  if (name === 'fy') state.fy = Number(value);
  else state[name] = value;
  if (name === 'fy' || name === 'org') {
    loadReturn();
  } else {
    renderAll();
  }
}

// ---------------------------------------------------------------------------------------------
// The return

async function loadReturn({ quiet = false } = {}) {
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

// Re-renders whatever depends on the report and the filters.
function renderAll() {
  if (!state.report) return;
  renderReturn();
  const tab = activeTabId();
  if (tab === 'tab-pack') renderPack();
  if (tab === 'tab-review') renderReview();
}

function prioritiesOf(report) {
  // Newer servers send the catalogue's priorities and aims with their labels; otherwise the ids,
  // in the order the indicators come.
  if (Array.isArray(report.priorities) && report.priorities.length) return report.priorities;
  const seen = new Map();
  for (const ind of report.indicators) {
    if (!seen.has(ind.priority)) seen.set(ind.priority, { id: ind.priority, label: ind.priority });
  }
  return [...seen.values()];
}

function aimsOf(report) {
  const aims = new Map();
  for (const aim of report.aims || []) aims.set(aim.id, aim);
  return aims;
}

// [{priority, aims: [{aim, indicators: [...]}]}] in catalogue order, after the priority filter.
function groupIndicators(report, priorityFilter) {
  const aimInfo = aimsOf(report);
  const groups = [];
  for (const priority of prioritiesOf(report)) {
    if (priorityFilter && priority.id !== priorityFilter) continue;
    const byAim = new Map();
    for (const ind of report.indicators) {
      if (ind.priority !== priority.id) continue;
      if (!byAim.has(ind.aim)) {
        byAim.set(ind.aim, {
          aim: aimInfo.get(ind.aim) || { id: ind.aim, label: ind.aim, direction: ind.direction },
          indicators: [],
        });
      }
      byAim.get(ind.aim).indicators.push(ind);
    }
    if (byAim.size) groups.push({ priority, aims: [...byAim.values()] });
  }
  return groups;
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

function approvedQuarters() {
  const approved = new Map();
  for (const a of state.approvals || []) approved.set(a.quarter, a);
  return approved;
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
  box.replaceChildren(el('div', { class: 'warning-box' },
    el('h2', { text: 'Devices not synced since the quarter ended' }),
    el('ul', {}, warnings.map((w) => el('li', { text: w })))));
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

function priorityBlock(group, options) {
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

function formatValue(ind, value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value.replace(/_/g, ' ');
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
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
  appendAll(cell, [lateMark]);
  return cell;
}

// A small line chart of Q1..Q4 (nulls leave gaps), with its values as the accessible name.
function sparkline(ind) {
  const values = QUARTERS.map((q) => ind.values?.[q]);
  const numeric = values.map((v) => (typeof v === 'number' ? v : null));
  const described = QUARTERS.map((q, i) =>
    `${q} ${numeric[i] === null ? 'no figure' : formatValue(ind, numeric[i])}`).join(', ');
  if (numeric.every((v) => v === null)) {
    return el('span', { class: 'muted', text: '–' }, srOnly(`no figures: ${described}`));
  }
  const width = 84;
  const height = 26;
  const pad = 4;
  const present = numeric.filter((v) => v !== null);
  const min = Math.min(...present);
  const max = Math.max(...present);
  const x = (i) => pad + (i * (width - 2 * pad)) / (QUARTERS.length - 1);
  const y = (v) => (max === min ? height / 2 : height - pad - ((v - min) * (height - 2 * pad)) / (max - min));
  const chart = svgEl('svg', {
    class: 'spark',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Trend: ${described}`,
    focusable: 'false',
  });
  // One polyline per run of quarters that have figures.
  let run = [];
  const flush = () => {
    if (run.length > 1) chart.append(svgEl('polyline', { class: 'spark-line', points: run.join(' ') }));
    run = [];
  };
  numeric.forEach((v, i) => {
    if (v === null) {
      flush();
      return;
    }
    run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    chart.append(svgEl('circle', { class: 'spark-dot', cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2 }));
  });
  flush();
  return chart;
}

// ▲ the figure went up, ▼ down, ► no change since the previous quarter; the words say whether that
// is the way the plan wants it to move (the report's trend.vs_previous_quarter).
function travelMark(ind, quarter) {
  const verdict = ind.trend?.[quarter]?.vs_previous_quarter ?? null;
  if (verdict === null) {
    return el('span', { class: 'muted' }, el('span', { 'aria-hidden': 'true', text: '–' }),
      srOnly('not comparable'));
  }
  if (verdict === 'same') {
    return el('span', { class: 'mark same' }, el('span', { 'aria-hidden': 'true', text: '► ' }), 'no change');
  }
  const improving = verdict === 'better';
  const wantsUp = ind.direction !== 'decrease';
  const wentUp = improving === wantsUp;
  return el('span', { class: `mark ${improving ? 'improving' : 'worsening'}` },
    el('span', { 'aria-hidden': 'true', text: wentUp ? '▲ ' : '▼ ' }),
    srOnly(wentUp ? 'up, ' : 'down, '),
    improving ? 'improving' : 'worsening');
}

// ---------------------------------------------------------------------------------------------
// Drill-down (coordinator): the records behind a figure, sensitive fields withheld by the server.

async function openDrill(ind, period) {
  const dialog = $('drill-dialog');
  const quarter = period === 'year' ? '' : period;
  $('drill-title').textContent = `${ind.label}: ${period === 'year' ? 'year' : period} ${fyLabel(state.fy)}`;
  $('drill-summary').textContent = 'Loading the records…';
  $('drill-body').replaceChildren();
  openDialog(dialog);
  // Errors show inside the dialog: the page behind a modal dialog is inert.
  let explain;
  try {
    explain = await api(`/v1/explain?${query({ indicator: ind.id, fy: state.fy, quarter })}`);
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
  const table = await api(`/v1/records?${query({ form, fy: state.fy, quarter })}`).catch(() => null);
  if (!table) return null;
  const idColumn = table.columns.indexOf('id');
  const byId = new Map(table.rows.map((row) => [row[idColumn], row]));
  return { columns: table.columns, byId, withheld: table.withheld || [] };
}

function cellText(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
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

// ---------------------------------------------------------------------------------------------
// Dialogs: showModal() makes the page behind inert and closes on Escape; focus goes back to
// whatever opened the dialog.

function openDialog(dialog) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    if (opener && document.contains(opener)) opener.focus();
  }, { once: true });
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('[data-close]')?.focus();
}

// ---------------------------------------------------------------------------------------------
// Sync health (coordinator)

async function loadSync() {
  const body = $('sync-body');
  body.replaceChildren(el('p', { class: 'muted', text: 'Loading devices…' }));
  const reply = await attempt(() => api('/v1/devices'));
  if (!reply) {
    body.replaceChildren(el('p', { class: 'muted', text: 'Sync health could not be loaded.' }));
    return;
  }
  renderDevices(reply.devices || []);
}

// Whether a device may still hold records of the latest quarter that has ended.
function behind(device, endedQuarterEnd) {
  if (device.revoked || device.role === 'board' || device.role === 'admin') return false;
  if (device.client === 'dashboard' || endedQuarterEnd === null) return false;
  return !device.last_sync || Date.parse(device.last_sync) < endedQuarterEnd;
}

function lastEndedQuarterOverall(now = Date.now()) {
  const fy = currentFy(new Date(now));
  const q = latestEndedQuarter(fy, now);
  return q ? { fy, q, end: quarterEndMs(fy, q) } : { fy: fy - 1, q: 'Q4', end: quarterEndMs(fy - 1, 'Q4') };
}

function renderDevices(devices) {
  const ended = lastEndedQuarterOverall();
  const late = devices.filter((d) => behind(d, ended.end));
  const summary = el('p', {
    class: late.length ? 'warning-box' : 'ok-box',
    text: late.length
      ? `${late.length} of ${devices.length} devices have not synced since ${ended.q} ${fyLabel(ended.fy)} ended.`
      : `${devices.length} devices; every one has synced since ${ended.q} ${fyLabel(ended.fy)} ended.`,
  });
  const head = ['Device', 'User', 'Organisation', 'Role', 'Last sync', 'Changes held then',
    'Rejected records', 'State'].map((h) => el('th', { scope: 'col', text: h }));
  const rows = devices.map((d) => el('tr', { class: behind(d, ended.end) ? 'row-warn' : null },
    el('th', { scope: 'row' }, el('span', { text: d.name || '(unnamed)' }),
      el('span', { class: 'ind-id', text: d.id })),
    el('td', { text: d.user }),
    el('td', { text: d.org }),
    el('td', { text: d.role }),
    el('td', {}, timeEl(d.last_sync)),
    el('td', { class: 'num', text: d.pending_at_last_sync ?? '–' }),
    el('td', {}, rejections(d)),
    el('td', { text: deviceState(d, ended) })));
  $('sync-body').replaceChildren(summary,
    el('div', { class: 'scroll', role: 'region', 'aria-label': 'Devices', tabindex: 0 },
      el('table', { class: 'devices' }, el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows))));
}

function deviceState(device, ended) {
  if (device.revoked) return 'revoked';
  if (device.client === 'dashboard') return 'dashboard sign-in';
  if (behind(device, ended.end)) return device.last_sync ? `not synced since ${ended.q} ended` : 'never synced';
  return 'up to date';
}

function rejections(device) {
  const count = device.rejected ?? (device.rejections || []).length;
  if (!count) return el('span', { text: '0' });
  const list = (device.rejections || []).map((r) => el('li', {},
    el('span', { class: 'ind-id', text: r.record_id }), ' ', el('span', { text: r.reason }),
    r.at ? el('span', { class: 'muted' }, ' (', timeEl(r.at), ')') : null));
  return el('details', {}, el('summary', { text: `${count} rejected` }), el('ul', { class: 'plain' }, list));
}

// ---------------------------------------------------------------------------------------------
// Conflicts, late records and approval (coordinator)

async function loadReview() {
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

function renderReview() {
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
  $('approve-warnings').replaceChildren(...approvalNotes(quarter, kind, reply.report.warnings || []));
  confirm.disabled = false;
  confirm.onclick = () => approve(quarter, dialog);
}

function approvalNotes(quarter, kind, warnings) {
  const notes = [];
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
  if (state.org) {
    notes.push(el('p', { text: `This covers every organisation, not only ${state.org}.` }));
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

// ---------------------------------------------------------------------------------------------
// Board pack: the whole return, read-only, laid out for printing.

function renderPack() {
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

// ---------------------------------------------------------------------------------------------
// Downloads: fetched with the credential, then saved through an object URL.

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, class: 'sr-only' });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: the download has to start reading the URL first.
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

function downloadName(ext) {
  return `beatbook-return-${state.fy}${state.org ? `-${state.org}` : ''}.${ext}`;
}

async function downloadCsv() {
  const reply = await attempt(() => api(`/v1/report?${query({ fy: state.fy, org: state.org, format: 'csv' })}`));
  if (!reply) return;
  saveBlob(new Blob([reply.text], { type: 'text/csv;charset=utf-8' }), downloadName('csv'));
  announce(`Downloaded ${downloadName('csv')}.`);
}

async function downloadXlsx() {
  const blob = await attempt(() => api(`/v1/report.xlsx?${query({ fy: state.fy, org: state.org })}`, { as: 'blob' }));
  if (!blob) return;
  saveBlob(blob, downloadName('xlsx'));
  announce(`Downloaded ${downloadName('xlsx')}.`);
}

// ---------------------------------------------------------------------------------------------
// Start

function wire() {
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('signin-token').value.trim());
  });
  $('signout').addEventListener('click', () => {
    signOut('');
    announce('Signed out.');
  });
  $('filters').addEventListener('change', onFilterChange);
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('refresh').addEventListener('click', () => {
    loadReturn();
    const loaders = { 'tab-sync': loadSync, 'tab-review': loadReview };
    loaders[activeTabId()]?.();
  });
  $('download-csv').addEventListener('click', downloadCsv);
  $('download-xlsx').addEventListener('click', downloadXlsx);
  $('print').addEventListener('click', () => window.print());
  const tabs = $('tabs');
  tabs.addEventListener('keydown', onTabKey);
  tabs.addEventListener('click', (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) selectTab(tab);
  });
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close());
  }
  // Before printing from any tab, lay out the board pack: it is what prints.
  window.addEventListener('beforeprint', renderPack);
}

function start() {
  wire();
  fillFySelect();
  state.session = loadSession();
  if (state.session) showApp();
  else showSignin();
}

start();
