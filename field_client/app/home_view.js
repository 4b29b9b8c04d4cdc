// Home: who is signed in, what is not sent yet (always in view), the last successful sync and the
// last failure apart, records the server refused with their reason, the lists, a Start button per
// form, and Sync low on the screen where a thumb reaches it.

import { $, el, fill, icon } from './dom.js';
import { app, mayEnterReturns } from './state.js';
import { getState, getRecords, sync } from './api.js';
import { attempt, clearMessages } from './messages.js';
import { formatRecent, timeEl } from './dates.js';
import { stateChip } from './chips.js';
import { startForm } from './form_view.js';
import { go, showScreen } from './nav.js';

export async function openHome() {
  const state = await attempt(getState);
  if (state) app.state = state;
  if (app.state?.locked) return;  // signed out meanwhile: the PIN pad is showing
  await renderHome();
  showScreen('home', 'Home');
}

async function renderHome() {
  const state = app.state;
  let fixing = [];
  if (state.needs_fixing > 0) {
    const reply = await attempt(() => getRecords());
    fixing = (reply?.records ?? []).filter((r) => r.state === 'needs_fixing');
  }
  fill($('home-body'),
    statusCard(state),
    fixing.length ? fixingSection(fixing) : null,
    listsNav(state),
    startSection());
}

function statusCard(state) {
  const pending = Number(state.pending) || 0;
  return el('section', { class: 'card status-card', 'aria-labelledby': 'status-title' },
    el('h2', { id: 'status-title', class: 'sr-only', text: 'Sending' }),
    el('p', { class: 'pending' }, icon(pending ? 'clock' : 'check'),
      el('strong', { text: `${pending} not sent yet` })),
    el('p', { class: 'last-sync' }, state.last_sync
      ? ['Last sent: ', timeEl(state.last_sync, formatRecent(state.last_sync))]
      : 'Nothing sent from this tablet yet.'),
    state.last_sync_error
      ? el('p', { class: 'problem' }, icon('cross'),
        el('span', { text: `Last try did not work: ${state.last_sync_error}` }))
      : null);
}

function fixingSection(records) {
  return el('section', { class: 'card fixing', 'aria-labelledby': 'fixing-title' },
    el('h2', { id: 'fixing-title', text: `Needs fixing: ${records.length}` }),
    el('ul', { class: 'plain' }, records.map((record) => {
      const form = app.formsByName.get(record.form);
      return el('li', { class: 'fix-item' },
        el('p', { class: 'card-line' }, stateChip('needs_fixing'),
          el('strong', { text: ` ${record.form_label || form?.label || record.form}` }), ', ',
          timeEl(record.occurred_at)),
        record.reason ? el('p', { class: 'reason', text: record.reason }) : null,
        form ? el('button', { type: 'button', class: 'primary', text: 'Fix',
          onclick: () => go('form', form, { record, fix: true, returnTo: 'home' }) }) : null);
    })));
}

function listsNav(state) {
  const drafts = Number(state.drafts) || 0;
  return el('nav', { class: 'lists', 'aria-label': 'Lists' },
    el('button', { type: 'button', class: 'big secondary', text: 'My records',
      onclick: () => go('records') }),
    el('button', { type: 'button', class: 'big secondary', text: `Drafts: ${drafts}`,
      onclick: () => go('drafts') }),
    mayEnterReturns()
      ? el('button', { type: 'button', class: 'big secondary', text: 'Returns',
        onclick: () => go('returns') })
      : null);
}

function startSection() {
  const forms = app.forms.filter((f) => f.form !== 'indicator_return');  // entered in Returns
  return el('section', { class: 'start', 'aria-labelledby': 'start-title' },
    el('h2', { id: 'start-title', text: 'Start a new record' }),
    el('div', { class: 'start-grid' }, forms.map((form) => el('button', {
      type: 'button', class: 'big start-button', text: form.label,
      onclick: () => startForm(form.form),
    }))));
}

function outcomeText(result) {
  const parts = [`Sent ${result.pushed ?? 0}, received ${result.pulled ?? 0}`];
  // The office put its server back from a backup: this tablet sent again what it holds, so
  // nothing it had sent before is lost (docs/protocol.md, section 7).
  if (result.server_restored) {
    parts.push('The office restored its records from a backup, so this tablet sent everything it holds again');
  }
  if (result.rejected) parts.push(`${result.rejected} ${result.rejected === 1 ? 'needs' : 'need'} fixing`);
  if (result.pending) parts.push(`${result.pending} still not sent`);
  const photos = (n) => `${n} photo${n === 1 ? '' : 's'}`;
  if (result.photos_uploaded) parts.push(`${photos(result.photos_uploaded)} sent`);
  if (result.photos_waiting) parts.push(`${photos(result.photos_waiting)} not sent yet`);
  // A photo the server refused, or one changed on the tablet, in the app's plain words.
  for (const problem of result.photo_problems ?? []) parts.push(problem.replace(/\.$/, ''));
  return `${parts.join('. ')}.`;
}

async function runSync() {
  const button = $('sync-button');
  const outcome = $('sync-outcome');
  if (button.disabled) return;
  clearMessages();  // "Saved ..." from before is old news now
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  outcome.className = 'sync-outcome busy';
  fill(outcome, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
    'Sending and receiving…');
  try {
    const result = await sync();
    // Refusals need the worker: marked like a problem, though the rest went.
    const problem = result.rejected || result.photo_problems?.length;
    outcome.className = problem ? 'sync-outcome bad' : 'sync-outcome ok';
    fill(outcome, icon(problem ? 'alert' : 'check'), el('span', { text: outcomeText(result) }));
  } catch (error) {
    if (error.status === 401) return;
    outcome.className = 'sync-outcome bad';
    fill(outcome, icon('cross'), el('span', { text: error.message }));
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
  const state = await attempt(getState);
  if (state) app.state = state;
  if (!app.state?.locked && !$('screen-home').hidden) await renderHome();
  if (document.activeElement === document.body || document.activeElement === null) button.focus();
}

export function wireHome() {
  $('sync-button').addEventListener('click', runSync);
}
