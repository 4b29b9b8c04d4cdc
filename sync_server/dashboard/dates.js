// Dates: the UK financial year (April to March) and its quarters, in Europe/London.

import { el } from './dom.js';

export const QUARTERS = ['Q1', 'Q2', 'Q3', 'Q4'];
export const PERIODS = [...QUARTERS, 'year'];
export const QUARTER_MONTHS = { Q1: 'Apr–Jun', Q2: 'Jul–Sep', Q3: 'Oct–Dec', Q4: 'Jan–Mar' };
const TZ = 'Europe/London';

export function currentFy(date) {
  return date.getMonth() >= 3 ? date.getFullYear() : date.getFullYear() - 1;
}

export function fyLabel(fy) {
  return `${fy}/${String((fy + 1) % 100).padStart(2, '0')}`;
}

// When a quarter ends, in ms since the epoch: local midnight at the start of the next quarter.
// April, July and October start in BST (UTC+1), January in GMT.
export function quarterEndMs(fy, quarter) {
  const hour = 3600 * 1000;
  switch (quarter) {
    case 'Q1': return Date.UTC(fy, 6, 1) - hour;
    case 'Q2': return Date.UTC(fy, 9, 1) - hour;
    case 'Q3': return Date.UTC(fy + 1, 0, 1);
    default: return Date.UTC(fy + 1, 3, 1) - hour;
  }
}

// The latest quarter of fy that has ended by now, or null when none has.
export function latestEndedQuarter(fy, now = Date.now()) {
  for (let i = QUARTERS.length - 1; i >= 0; --i) {
    if (quarterEndMs(fy, QUARTERS[i]) <= now) return QUARTERS[i];
  }
  return null;
}

export function formatWhen(iso) {
  if (!iso) return 'never';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: TZ });
}

export function timeEl(iso) {
  if (!iso) return el('span', { text: 'never' });
  return el('time', { datetime: iso, text: formatWhen(iso) });
}
