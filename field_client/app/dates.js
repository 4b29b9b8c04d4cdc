// Times: what a worker types and reads is UK time (Europe/London, GMT or BST); what the API gets
// is ISO 8601 UTC ("2023-06-01T21:30:00Z"). Also the UK financial year (April to March).

const TZ = 'Europe/London';
const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ, hourCycle: 'h23',
  year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
});

// {year, month (1-12), day, hour, minute} of an instant in UK time.
export function londonParts(ms) {
  const parts = {};
  for (const p of partsFormat.formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour % 24,
    minute: parts.minute };
}

// The instant a UK wall-clock time names. UK time is UTC or UTC+1: of the two candidates the
// earlier one that reads back as the same wall time (the BST one, when the clocks go back and an
// hour repeats); a time skipped when the clocks go forward reads as the hour after.
export function londonToUtcMs(year, month, day, hour, minute) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  for (const candidate of [wall - 3600000, wall]) {
    const p = londonParts(candidate);
    if (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall) return candidate;
  }
  return wall;
}

export function isRealDate(year, month, day) {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function isoUtc(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const whenFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  hourCycle: 'h23',
});
const timeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

// "1 Jun 2023, 22:00" (UK time), or the text itself when it is not a time.
export function formatWhen(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : whenFormat.format(date);
}

export function formatTime(ms) {
  return timeFormat.format(new Date(ms));
}

// "22:14" when today in UK time, else "1 Jun 2023, 22:14".
export function formatRecent(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso || '');
  const a = londonParts(date.getTime());
  const b = londonParts(Date.now());
  const today = a.year === b.year && a.month === b.month && a.day === b.day;
  return today ? `today at ${timeFormat.format(date)}` : whenFormat.format(date);
}

export function timeEl(iso, text = formatWhen(iso)) {
  const node = document.createElement('time');
  node.dateTime = iso;
  node.textContent = text;
  return node;
}

// The financial year an instant falls in: 2023 for 1 April 2023 to 31 March 2024 (UK dates).
export function currentFy(ms = Date.now()) {
  const p = londonParts(ms);
  return p.month >= 4 ? p.year : p.year - 1;
}

export function fyLabel(fy) {
  return `${fy}/${String((fy + 1) % 100).padStart(2, '0')}`;
}

export const QUARTER_MONTHS = { Q1: 'Apr–Jun', Q2: 'Jul–Sep', Q3: 'Oct–Dec', Q4: 'Jan–Mar' };

// Whether a quarter of fy has ended by now (its return is owed).
export function quarterEnded(fy, quarter, now = Date.now()) {
  const firstMonthAfter = { Q1: [fy, 7], Q2: [fy, 10], Q3: [fy + 1, 1], Q4: [fy + 1, 4] }[quarter];
  if (!firstMonthAfter) return false;
  return londonToUtcMs(firstMonthAfter[0], firstMonthAfter[1], 1, 0, 0) <= now;
}
