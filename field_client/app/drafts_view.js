// Drafts: unfinished records kept on this tablet (never sent), to continue or discard.

import { $, el, fill } from './dom.js';
import { app } from './state.js';
import { getDrafts } from './api.js';
import { attempt } from './messages.js';
import { formatRecent } from './dates.js';
import { stateChip, summaryLine } from './chips.js';
import { discardDraft } from './form_view.js';
import { go, showScreen } from './nav.js';

export async function openDrafts({ focus = true } = {}) {
  const reply = await attempt(getDrafts);
  const list = $('drafts-list');
  if (!reply) {
    fill(list, el('li', { text: 'The drafts could not be loaded.' }));
  } else if (!reply.drafts.length) {
    fill(list, el('li', { class: 'empty', text: 'No drafts: nothing unfinished.' }));
  } else {
    fill(list, ...reply.drafts.map(draftCard));
  }
  showScreen('drafts', 'Drafts', { focus });
}

function draftCard(draft) {
  const form = app.formsByName.get(draft.form);
  const about = summaryLine(form, draft.fields);
  return el('li', { class: 'card' },
    el('h2', { class: 'card-title', text: draft.form_label || form?.label || draft.form }),
    el('p', { class: 'card-line' }, stateChip('draft'),
      ` Last changed ${formatRecent(draft.updated_at)}`, about ? ` · ${about}` : ''),
    el('div', { class: 'card-actions' },
      form ? el('button', { type: 'button', class: 'primary', text: 'Continue',
        onclick: () => go('form', form, { draft }) }) : null,
      el('button', { type: 'button', class: 'secondary', text: 'Discard',
        onclick: async () => {
          if (await discardDraft(draft, form)) await openDrafts({ focus: true });
        } })));
}
