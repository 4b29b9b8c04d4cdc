// One indicator's trend: the Q1–Q4 sparkline and the direction-of-travel mark.

import { el, svgEl, srOnly } from './dom.js';
import { QUARTERS } from './dates.js';
import { formatValue } from './report_data.js';

// A small line chart of Q1..Q4 (nulls leave gaps), with its values as the accessible name.
export function sparkline(ind) {
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
export function travelMark(ind, quarter) {
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
