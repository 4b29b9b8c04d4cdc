// Sync health (coordinator): every device, when it last synced, and which may still hold records
// of the latest quarter that has ended.

import { $, el } from './dom.js';
import { currentFy, fyLabel, quarterEndMs, latestEndedQuarter, timeEl } from './dates.js';
import { api } from './api.js';
import { attempt } from './messages.js';

export async function loadSync() {
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
  if (device.revoked || ['board', 'admin', 'safeguarding_lead'].includes(device.role)) return false;
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
