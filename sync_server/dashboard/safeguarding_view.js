// Safeguarding (coordinator): every outreach contact whose worker answered Yes to a safeguarding
// question, oldest first. Each is acknowledged, then what was done is recorded, with who and
// when; one not acknowledged in time is flagged (docs/safeguarding.md). Every view is audited by
// the server.

import { $, el, appendAll } from './dom.js';
import { timeEl } from './dates.js';
import { api } from './api.js';
import { announce } from './messages.js';

export async function loadSafeguarding() {
  const body = $('safeguarding-body');
  // What the coordinator has typed and not saved survives the list being drawn again.
  const unsaved = new Map([...body.querySelectorAll('textarea[data-record]')]
    .filter((box) => box.value !== box.defaultValue).map((box) => [box.dataset.record, box.value]));
  if (!body.querySelector('article')) {
    body.replaceChildren(el('p', { class: 'muted', text: 'Loading safeguarding concerns…' }));
  }
  try {
    renderQueue(await api('/v1/safeguarding'));
    for (const [record, text] of unsaved) {
      const box = body.querySelector(`textarea[data-record="${CSS.escape(record)}"]`);
      if (box) box.value = text;
    }
  } catch (error) {
    body.replaceChildren(el('p', { class: 'field-error', role: 'alert',
      text: `Safeguarding concerns could not be loaded: ${error.message}` }));
  }
}

function hours(n) {
  return `${n} hour${n === 1 ? '' : 's'}`;
}

function renderQueue(queue) {
  const concerns = queue.concerns || [];
  const within = queue.acknowledge_within_hours;
  const tab = $('tab-safeguarding');
  tab.textContent = queue.waiting ? `Safeguarding (${queue.waiting} waiting)` : 'Safeguarding';
  if (!concerns.length) {
    $('safeguarding-body').replaceChildren(el('p', { class: 'ok-box',
      text: 'No safeguarding concerns have been raised.' }));
    return;
  }
  const summary = queue.waiting
    ? el('p', { class: 'warning-box' },
      `${queue.waiting} of ${concerns.length} concerns wait for acknowledgement`,
      queue.overdue ? `; ${queue.overdue} ${queue.overdue === 1 ? 'has' : 'have'} waited more than ${hours(within)}.` : '.')
    : el('p', { class: 'ok-box', text: `Every concern (${concerns.length}) has been acknowledged.` });
  $('safeguarding-body').replaceChildren(summary,
    el('ul', { class: 'plain concerns' }, concerns.map((c) => el('li', {}, concernCard(c, within)))));
}

function statusLine(c, within) {
  if (c.acknowledged_at) {
    return el('p', { class: 'concern-status' },
      el('span', { class: 'badge', text: 'Acknowledged' }), ` by ${c.acknowledged_by} on `,
      timeEl(c.acknowledged_at));
  }
  if (c.overdue) {
    return el('p', { class: 'concern-status' },
      el('span', { class: 'badge badge-owed', text: 'Overdue' }),
      ` Not acknowledged for ${hours(c.hours_waiting)}: acknowledge within ${hours(within)} of the sync.`);
  }
  return el('p', { class: 'concern-status' },
    el('span', { class: 'badge', text: 'Waiting' }), ` Raised ${hours(c.hours_waiting)} ago.`);
}

function answerList(c) {
  return el('dl', { class: 'answers' }, c.answers.flatMap((a) => [
    el('dt', { text: a.label }),
    el('dd', {}, a.value, a.sensitive ? el('span', { class: 'muted', text: ' (sensitive)' }) : null),
  ]));
}

function concernCard(c, within) {
  const id = `concern-${c.record_id}`;
  // Each message sits next to the control it is about.
  const ackError = el('p', { class: 'field-error', id: `${id}-ack-error`, 'aria-live': 'polite' });
  const error = el('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const card = el('article', { class: c.overdue ? 'concern overdue' : 'concern', 'aria-labelledby': `${id}-title` });
  const title = el('h3', { id: `${id}-title` },
    `${c.form}, ${c.org_label}: `, timeEl(c.occurred_at));
  const acknowledge = c.acknowledged_at ? null : el('button', {
    type: 'button', class: 'big', 'data-acknowledge': c.record_id, text: 'Acknowledge',
    'aria-describedby': `${id}-ack-error`,
    onclick: () => followUp(card, c, '/v1/safeguarding/acknowledge', { record_id: c.record_id }, ackError,
      'Concern acknowledged.'),
  });
  const actionBox = el('textarea', { id: `${id}-action`, rows: 3, maxlength: 2000,
    'aria-describedby': `${id}-error`, 'data-record': c.record_id });
  const actionForm = el('form', { class: 'action-form',
    onsubmit: (event) => {
      event.preventDefault();
      if (!actionBox.value.trim()) {
        error.textContent = 'Say what was done about the concern before saving.';
        actionBox.setAttribute('aria-invalid', 'true');
        actionBox.focus();
        return;
      }
      actionBox.removeAttribute('aria-invalid');
      followUp(card, c, '/v1/safeguarding/action', { record_id: c.record_id, action: actionBox.value },
        error, 'Action recorded.');
    } },
    el('label', { for: `${id}-action`, text: c.action ? 'A further action' : 'What was done' }),
    actionBox,
    el('button', { type: 'submit', class: 'big', text: 'Save action' }));
  appendAll(card, [title, statusLine(c, within),
    c.still_raised ? null : el('p', { class: 'warning-box', text: 'The worker has since changed the answer to No, or deleted the record.' }),
    answerList(c),
    el('p', { class: 'muted' }, `Logged by ${c.worker}; reached the server `, timeEl(c.raised_at), '.'),
    c.action ? el('p', { class: 'recorded-action' },
      el('strong', { text: 'Action recorded: ' }), c.action, ` (${c.action_by}, `, timeEl(c.action_at), ')') : null,
    earlierActions(c),
    acknowledge, acknowledge ? ackError : null, actionForm, error]);
  return card;
}

// Every action is kept: the ones before the latest, oldest first.
function earlierActions(c) {
  const earlier = (c.actions || []).slice(0, -1);
  if (!earlier.length) return null;
  return el('details', { class: 'earlier-actions' },
    el('summary', { text: `Earlier actions (${earlier.length})` }),
    el('ul', {}, earlier.map((a) => el('li', {}, a.action, ` (${a.by}, `, timeEl(a.at), ')'))));
}

async function followUp(card, concern, path, body, error, done) {
  for (const message of card.querySelectorAll('.field-error')) message.textContent = '';
  for (const button of card.querySelectorAll('button')) button.disabled = true;
  try {
    await api(path, { method: 'POST', body });
    // Saved: no longer unsaved text to carry over.
    if (body.action !== undefined) card.querySelector('textarea').value = '';
    announce(done);
    await loadSafeguarding();
    // Focus stays with the concern just handled.
    document.getElementById(`concern-${concern.record_id}-title`)?.setAttribute('tabindex', '-1');
    document.getElementById(`concern-${concern.record_id}-title`)?.focus();
  } catch (e) {
    error.textContent = `Not saved: ${e.message}`;
    for (const button of card.querySelectorAll('button')) button.disabled = false;
    // Back to the control that was used (a disabled button loses focus).
    card.querySelector(body.action === undefined ? '[data-acknowledge]' : 'textarea')?.focus();
  }
}
