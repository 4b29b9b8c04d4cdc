// Downloads of the return (CSV, Excel): fetched with the credential, saved through an object URL.

import { el } from './dom.js';
import { state } from './state.js';
import { api, query } from './api.js';
import { announce, attempt } from './messages.js';

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

export async function downloadCsv() {
  const reply = await attempt(() => api(`/v1/report?${query({ fy: state.fy, org: state.org, format: 'csv' })}`));
  if (!reply) return;
  saveBlob(new Blob([reply.text], { type: 'text/csv;charset=utf-8' }), downloadName('csv'));
  announce(`Downloaded ${downloadName('csv')}.`);
}

export async function downloadXlsx() {
  const blob = await attempt(() => api(`/v1/report.xlsx?${query({ fy: state.fy, org: state.org })}`, { as: 'blob' }));
  if (!blob) return;
  saveBlob(blob, downloadName('xlsx'));
  announce(`Downloaded ${downloadName('xlsx')}.`);
}
