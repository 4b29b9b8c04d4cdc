// Places (coordinator and board): for one form and the year, how many records each place has
// per quarter, most first; and, for the coordinator, where exactly the records with a recorded
// point were, drawn as dots on their own: no map tiles can be fetched from here, so the dots keep
// their true positions relative to each other with a scale, and a list gives each one
// (docs/protocol.md, 3a, GET /v1/hotspots).

import { $, el } from './dom.js';
import { fyLabel } from './dates.js';
import { state } from './state.js';
import { api, query } from './api.js';
import { attempt } from './messages.js';

const SVG = 'http://www.w3.org/2000/svg';
const PLOT_WIDTH = 600;
const METRES_PER_DEGREE = 111_320;
let chosenForm = '';
let shownFy = null;  // the year the tab shows: other filters do not change it
let loadSeq = 0;     // only the latest request's reply is shown

// Loads the tab; `ifYearChanged` (a filter changed) skips it when the year is the one shown.
export async function loadPlaces({ ifYearChanged = false } = {}) {
  if (ifYearChanged && shownFy === state.fy) return;
  const seq = ++loadSeq;
  const body = $('places-body');
  const hadFocus = document.activeElement?.id === 'places-form';
  body.replaceChildren(el('p', { class: 'muted', text: 'Loading places…' }));
  const reply = await attempt(() => api(`/v1/hotspots?${query({ fy: state.fy, form: chosenForm })}`));
  if (seq !== loadSeq) return;  // a newer request is on its way
  if (!reply) {
    body.replaceChildren(el('p', { class: 'muted', text: 'Places could not be loaded.' }));
    return;
  }
  chosenForm = reply.form;
  shownFy = reply.fy;
  renderPlaces(reply);
  if (hadFocus) $('places-form').focus();
}

function renderPlaces(reply) {
  const label = reply.forms.find((f) => f.form === reply.form)?.label ?? reply.form;
  const summary = `${reply.records} ${label.toLowerCase()} record${reply.records === 1 ? '' : 's'} ` +
    `in ${fyLabel(reply.fy)}` +
    (reply.without_place ? `; ${reply.without_place} without a place` : '') + '.';
  // replaceChildren would write a null as the text "null": what is not there is left out.
  $('places-body').replaceChildren(...[
    formPicker(reply),
    el('p', { id: 'places-summary', text: summary }),
    reply.fewer_than ? el('p', { class: 'muted', text: `Counts under ${reply.fewer_than} are shown ` +
      `as <${reply.fewer_than}, and places typed rather than picked from the list are counted ` +
      'together, so that no one person can be picked out.' }) : null,
    reply.places.length ? placeTable(reply, label)
      : el('p', { class: 'muted', text: 'No places recorded for this form and year.' }),
    pointsSection(reply),
  ].filter(Boolean));
}

function formPicker(reply) {
  const select = el('select', { id: 'places-form' }, reply.forms.map((f) =>
    el('option', { value: f.form, text: f.label, selected: f.form === reply.form })));
  select.addEventListener('change', () => {
    chosenForm = select.value;
    loadPlaces();
  });
  return el('div', { class: 'control places-control' },
    el('label', { for: 'places-form', text: 'Form' }), select);
}

function placeTable(reply, label) {
  const head = ['Place', 'Q1', 'Q2', 'Q3', 'Q4', 'Year'].map((h, i) =>
    el('th', { scope: 'col', class: i ? 'num' : null, text: h }));
  const rows = reply.places.map((p) => el('tr', {},
    el('th', { scope: 'row' }, p.place, p.kind ? el('span', { class: 'muted', text: ` (${p.kind})` }) : null),
    ...['Q1', 'Q2', 'Q3', 'Q4'].map((q) => countCell(p.quarters[q], reply.fewer_than)),
    countCell(p.year, reply.fewer_than)));
  return el('div', { class: 'scroll', role: 'region', 'aria-label': `${label} records per place`, tabindex: 0 },
    el('table', { class: 'places' },
      el('caption', { class: 'sr-only', text: `${label} records per place and quarter, most first` }),
      el('thead', {}, el('tr', {}, head)), el('tbody', {}, rows)));
}

// A count, or "fewer than 5" where the board is not shown a small one (null).
function countCell(n, fewerThan) {
  if (n !== null && n !== undefined) return el('td', { class: 'num', text: String(n) });
  return el('td', { class: 'num' }, el('span', { 'aria-hidden': 'true', text: `<${fewerThan}` }),
    el('span', { class: 'sr-only', text: `fewer than ${fewerThan}` }));
}

function pointsSection(reply) {
  if (!reply.points_recorded) return null;
  if (!reply.points) {
    return el('p', { class: 'muted',
      text: `${reply.points_recorded} records have an exact point; only the coordinator sees where.` });
  }
  return el('section', { class: 'places-points', 'aria-labelledby': 'points-title' },
    el('h3', { id: 'points-title', text: 'Recorded points' }),
    plot(reply.points),
    el('details', {},
      el('summary', { text: `Each point (${reply.points.length})` }),
      el('ul', { class: 'plain' }, reply.points.map((p) => el('li', {
        text: `${p.quarter}: ${p.lat}, ${p.lon}` + (p.accuracy_m === undefined ? ' (typed in)'
          : ` (within ${Math.round(p.accuracy_m)} m)`),
      })))));
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

// The points in a box of their own: longitude scaled by the cosine of the latitude, so that
// distances look the same both ways; at least 200 m across, so one point is not a whole plot.
function plot(points) {
  const range = (values) => values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)],
    [Infinity, -Infinity]);
  const [minLat, maxLat] = range(points.map((p) => p.lat));
  const [minLon, maxLon] = range(points.map((p) => p.lon));
  const midLat = (minLat + maxLat) / 2;
  const squash = Math.cos(midLat * Math.PI / 180);
  const minSpan = 200 / METRES_PER_DEGREE;
  const spanX = Math.max((maxLon - minLon) * squash, minSpan);
  const spanY = Math.max(maxLat - minLat, minSpan);
  const midLon = (minLon + maxLon) / 2;
  const pad = 20;
  const scale = (PLOT_WIDTH - 2 * pad) / Math.max(spanX, spanY * 1.5);
  const height = Math.round(spanY * scale + 2 * pad) + 24;  // room for the scale below the dots
  const x = (lon) => PLOT_WIDTH / 2 + (lon - midLon) * squash * scale;
  const y = (lat) => (height - 24) / 2 - (lat - midLat) * scale;
  const across = Math.round(spanX * METRES_PER_DEGREE);
  const barMetres = niceMetres(across / 4);
  const barPixels = barMetres / METRES_PER_DEGREE * scale;
  return svg('svg', { viewBox: `0 0 ${PLOT_WIDTH} ${height}`, class: 'places-plot', role: 'img',
    'aria-label': `${points.length} recorded point${points.length === 1 ? '' : 's'}, about ` +
      `${across.toLocaleString('en-GB')} m across; listed under Each point` },
  svg('rect', { x: 0, y: 0, width: PLOT_WIDTH, height, class: 'plot-ground' }),
  ...points.map((p) => svg('circle', { cx: x(p.lon).toFixed(1), cy: y(p.lat).toFixed(1), r: 6,
    class: 'plot-point' })),
  svg('line', { x1: pad, y1: height - 10, x2: pad + barPixels, y2: height - 10, class: 'plot-scale' }),
  svg('text', { x: pad + barPixels + 6, y: height - 6, class: 'plot-label' }, `${barMetres} m`));
}

function niceMetres(metres) {
  for (const step of [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
    if (metres <= step) return step;
  }
  return 10000;
}
