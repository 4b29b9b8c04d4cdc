// The form screen: one scrolling page built from the form's JSON, questions that apply shown right
// under the answer that makes them apply, Save and Save as draft at the end with what each does
// written beside it.
//
// Every answer is kept as a draft on the tablet as it is given (POST, then PUT /app/api/drafts),
// so closing or killing the app loses nothing; a person's name and date of birth never go into a
// draft. On Save the app checks the record (it is the authority): its errors are shown in the
// summary at the top and under each question, and what was typed stays.

import { $, el, fill, icon, ask } from './dom.js';
import { app, setForms } from './state.js';
import {
  getDrafts, createDraft, updateDraft, deleteDraft, createRecord, editRecord, checkRecord,
  getForms, setLanguage,
} from './api.js';
import { attempt, announce } from './messages.js';
import { formatRecent, formatTime, isoUtc } from './dates.js';
import { buildWidget, occurredWidget } from './fields.js';
import { displayOrder, holds } from './relevant.js';
import { showSummary, hideSummary, summaryTitle, inWords } from './errors.js';
import { go, showScreen, setBeforeLeave, STAY } from './nav.js';

const TYPING_PAUSE_MS = 600;   // keep the draft this long after the last key
const CHOICE_PAUSE_MS = 100;   // and this soon after a tick or a button

let s = null;  // the open form: see openForm()

const lower = (text) => text.charAt(0).toLowerCase() + text.slice(1);

// Home's Start button: offers the newest unfinished draft of the form first.
export async function startForm(formName) {
  const form = app.formsByName.get(formName);
  if (!form) return;
  const listed = await attempt(getDrafts);
  if (!listed) return;
  const drafts = listed.drafts.filter((d) => d.form === formName);
  if (!drafts.length) {
    await go('form', form, {});
    return;
  }
  const draft = drafts[0];
  const others = drafts.length > 1 ? ` Drafts holds ${drafts.length - 1} more.` : '';
  const choice = await ask({
    title: 'Continue your draft?',
    text: `You have an unfinished ${lower(form.label)} from ${formatRecent(draft.updated_at)}: ` +
      `continue it or discard it.${others}`,
    buttons: [
      { label: 'Continue', value: 'continue', kind: 'primary' },
      { label: 'Discard', value: 'discard', kind: 'secondary' },
      { label: 'Start a new one', value: 'new', kind: 'secondary' },
    ],
  });
  if (choice === 'continue') await go('form', form, { draft });
  else if (choice === 'new') await go('form', form, {});
  else if (choice === 'discard' && await discardDraft(draft, form)) await go('form', form, {});
}

// Asks, then deletes a draft. Resolves to true when it was discarded.
export async function discardDraft(draft, form) {
  const label = form?.label ?? draft.form_label ?? draft.form;
  const choice = await ask({
    title: 'Discard this draft?',
    text: `The unfinished ${lower(label)} from ${formatRecent(draft.updated_at)} will be deleted ` +
      'from this tablet. This cannot be undone.',
    buttons: [
      { label: 'Discard draft', value: 'discard', kind: 'danger' },
      { label: 'Keep draft', value: 'keep', kind: 'secondary' },
    ],
  });
  if (choice !== 'discard') return false;
  const done = await attempt(() => deleteDraft(draft.id));
  if (done) announce('Draft discarded.');
  return Boolean(done);
}

// Opens `form`: new, or from a draft, or (record) to change a stored record; `fix` when the
// server refused it, so the reason and the answers at fault are shown first.
// `carried`: the answers of this same form on screen a moment ago, when the worker changed its
// language (see switchLanguage).
export async function openForm(form, {
  draft = null, record = null, fix = false, returnTo = 'home', carried = null,
} = {}) {
  const editing = Boolean(record);
  const session = {
    form, editing, record, fix, returnTo,
    draftId: carried ? carried.draftId : draft?.id ?? null,
    dirty: carried?.dirty ?? false,  // answers changed since the draft (or record) was kept
    closed: false,     // saved or left: nothing more is kept
    busy: false,
    timer: 0,
    chain: Promise.resolve(true),  // draft writes, one after another
    occurred: occurredWidget(),
    // The form's words carry its language when it is not the app's English.
    widgets: displayOrder(form.fields).map((field) =>
      buildWidget({ ...field, lang: formLang(form) },
        { editing, existingKey: record?.fields?.[field.name], form: form.form })),
    labels: new Map([['occurred_at', 'When it happened'], ['subject', 'Person']]),
  };
  for (const field of form.fields) session.labels.set(field.name, field.label);
  s = session;

  const values = carried?.fields ?? record?.fields ?? draft?.fields ?? {};
  for (const widget of session.widgets) if (!widget.person) widget.write(values[widget.name]);
  session.occurred.write(carried?.occurred ?? record?.occurred_at ?? draft?.occurred_at ??
    isoUtc(Date.now()));
  fill($('form-fields'), session.occurred.node, ...session.widgets.map((w) => w.node));
  for (const [id, value] of carried?.person ?? []) {
    const input = document.getElementById(id);
    if (input) input.value = value;
  }
  updateRelevance(session);

  const title = editing ? `${fix ? 'Fix' : 'Change'}: ${form.label}` : form.label;
  $('form-help').textContent = form.help ?? '';
  // The form's own words are in its language (read aloud in it); the app's stay in English.
  fill($('form-title'), editing ? `${fix ? 'Fix' : 'Change'}: ` : '',
    el('span', { text: form.label, lang: formLang(form) }));
  $('form-help').lang = formLang(form) ?? '';
  fill($('form-language'), languagePicker(session));
  fill($('form-reason'), fix && record?.reason
    ? el('div', { class: 'reason-box' }, icon('alert'),
      el('p', {}, el('strong', { text: 'Needs fixing: ' }), record.reason))
    : '');
  fill($('form-actions'), ...actionButtons(session));
  hideSummary('form');
  $('autosave-status').textContent = draft && !carried
    ? `Continuing the draft kept ${formatRecent(draft.updated_at)}.` : '';
  setBeforeLeave((options) => leave(session, options));
  showScreen('form', title);

  if (fix) {
    // Which answers the server's rules refuse, marked before the worker starts.
    const result = await checkRecord({ form: form.form, fields: carried?.fields ?? record.fields,
      occurred_at: carried?.occurred ?? record.occurred_at }).catch(() => null);
    if (s === session && result?.errors?.length) {
      showErrors(session, result.errors.map((e) => fromServer(session, e)),
        'This record needs fixing');
    }
  }
}

// --- languages -------------------------------------------------------------------------------

// The form's language as a `lang` attribute: none when it is the app's own English.
function formLang(form) {
  return form.language && form.language !== 'en' ? form.language : undefined;
}

// The languages the form is written in, when it has more than one: a button each (a radio
// group would rebuild the form at every arrow key). The tablet remembers the choice for every
// form written in it.
function languagePicker(session) {
  const { form } = session;
  if (!form.languages || form.languages.length < 2) return '';
  return el('div', { class: 'question language-picker', role: 'group',
    'aria-labelledby': 'language-title', 'aria-describedby': 'language-hint' },
  el('p', { class: 'part-legend', id: 'language-title', text: 'Language' }),
  el('p', { class: 'hint', id: 'language-hint',
    text: 'Your choice is kept for every form written in it.' }),
  el('div', { class: 'chips chips-row' }, form.languages.map((language) => el('button', {
    type: 'button', class: 'secondary language-button', lang: language.code,
    'aria-pressed': language.code === form.language ? 'true' : 'false',
    'data-language': language.code, text: language.name,
    onclick: () => switchLanguage(session, language.code),
  }))));
}

function setPickerBusy(busy) {
  for (const b of $('form-language').querySelectorAll('button')) b.disabled = busy;
}

// Shows the open form in another language: the choice is kept, the forms are fetched in it and
// the questions built again, with every answer given so far (hidden ones and the person's
// details included; those never go into a draft) put back. Nothing else may happen to the form
// meanwhile: Save and the picker wait, and if the worker left (Home, sign-out) it stops.
async function switchLanguage(session, code) {
  if (session.busy || session.closed || code === session.form.language) return;
  session.busy = true;
  setBusy(true);
  setPickerBusy(true);
  const stillHere = () => s === session && !session.closed;
  try {
    const state = await attempt(() => setLanguage(code));
    if (!state || !stillHere()) return;
    app.state = state;
    const reply = await attempt(getForms);
    if (!reply || !stillHere()) return;
    setForms(reply.forms);
    const form = app.formsByName.get(session.form.form);
    if (!form) return;
    clearTimeout(session.timer);
    await session.chain;  // a draft write on its way ends under this session
    if (!stillHere()) return;
    // Read last, just before the questions are rebuilt, so nothing typed meanwhile is lost.
    const got = collect(session, { hidden: true });
    const person = [...$('form-fields').querySelectorAll('input[id^="f-subject"]')]
      .map((input) => [input.id, input.value]);
    session.closed = true;
    await openForm(form, {
      record: session.record, fix: session.fix, returnTo: session.returnTo,
      carried: {
        draftId: session.draftId, dirty: session.dirty, fields: got.draftFields,
        occurred: got.occurredDraft, person,
      },
    });
    $('form-language').querySelector(`button[data-language="${code}"]`)?.focus();
  } finally {
    if (stillHere()) {
      session.busy = false;
      setBusy(false);
      setPickerBusy(false);
    }
  }
}

function actionButtons(session) {
  const action = (label, kind, consequence, onclick) => {
    const id = `consequence-${label.toLowerCase().replace(/\W+/g, '-')}`;
    return el('div', { class: 'action' },
      el('button', { type: 'button', class: `big ${kind}`, 'aria-describedby': id, text: label,
        onclick }),
      el('p', { class: 'hint', id, text: consequence }));
  };
  if (session.editing) {
    return [
      action('Save changes', 'primary',
        'Replaces the record on this tablet. The change is sent at the next sync.',
        () => save(session)),
      action('Leave without saving', 'secondary', 'Leaves the record as it was.', () => {
        session.closed = true;
        go(session.returnTo, ...(session.returnTo === 'record' ? [session.record.id] : []));
      }),
    ];
  }
  return [
    action('Save', 'primary',
      'Stores it on this tablet as finished. It is sent at the next sync.', () => save(session)),
    action('Save as draft', 'secondary',
      'Keeps it on this tablet to finish later. A draft is never sent.',
      () => saveAsDraft(session)),
  ];
}

// Shows the questions that apply to the answers given, hides the others (their answers are kept
// on screen but not sent). Repeated until nothing changes, as one question may depend on another
// that depends on a third.
function updateRelevance(session) {
  for (let pass = 0; pass <= session.widgets.length; ++pass) {
    const values = {};
    let changed = false;
    for (const widget of session.widgets) {
      const rel = widget.field.relevant;
      const shown = !rel || holds(rel, values);
      if (shown !== widget.shown) {
        widget.setShown(shown);
        changed = true;
      }
      if (shown && !widget.person) {
        const { value } = widget.read();
        if (value !== undefined) values[widget.name] = value;
      }
    }
    if (!changed) return;
  }
}

// Every answer of the questions shown: for the record (checked values), for a draft (what was
// typed), the page's own errors, the time, and the person's details.
function collect(session, { hidden = false } = {}) {
  const fields = {};
  const draftFields = {};
  const errors = [];
  let subject;
  for (const widget of session.widgets) {
    if (!widget.shown && !hidden) continue;
    if (widget.person) {
      if (session.editing) {
        if (widget.keyValue) fields[widget.field.name] = widget.keyValue;
      } else {
        const got = widget.readSubject();
        if (got.error) errors.push({ widget, message: got.error });
        else subject = got.subject;
      }
      continue;
    }
    const got = widget.read();
    if (got.error) errors.push({ widget, message: got.error });
    if (got.value !== undefined) fields[widget.name] = got.value;
    if (got.draft !== undefined) draftFields[widget.name] = got.draft;
  }
  const when = session.occurred.read();
  if (when.error) errors.unshift({ widget: session.occurred, message: when.error });
  return { fields, draftFields, errors, subject, occurredAt: when.value, occurredDraft: when.draft };
}

function widgetFor(session, name) {
  if (name === 'occurred_at') return session.occurred;
  if (name === 'subject') return session.widgets.find((w) => w.person) ?? null;
  return session.widgets.find((w) => w.name === name || w.field.name === name) ?? null;
}

function fromServer(session, error) {
  return { widget: widgetFor(session, error.field), message: inWords(error.message, session.labels) };
}

// Marks each question at fault (the first message for it) and lists every message in the summary,
// in the order of the page.
function showErrors(session, errors, title = summaryTitle(errors.length)) {
  const order = [session.occurred, ...session.widgets];
  const sorted = [...errors].sort((a, b) => rank(a) - rank(b));
  function rank(e) {
    const i = order.indexOf(e.widget);
    return i < 0 ? order.length : i;
  }
  for (const widget of order) widget.setError('');
  const marked = new Set();
  const items = sorted.map(({ widget, message }) => {
    const visible = widget && widget.shown;
    if (visible && !marked.has(widget)) {
      widget.setError(message);
      marked.add(widget);
    }
    return { message, target: visible ? widget.focusTarget() : null };
  });
  showSummary('form', title, items);
}

function setBusy(busy) {
  for (const button of $('form-actions').querySelectorAll('button')) button.disabled = busy;
}

// --- drafts ----------------------------------------------------------------------------------

function scheduleDraft(session, delay) {
  clearTimeout(session.timer);
  session.timer = setTimeout(() => queueDraft(session), delay);
}

function queueDraft(session) {
  clearTimeout(session.timer);
  session.chain = session.chain.then(() => writeDraft(session), () => writeDraft(session));
  return session.chain;
}

// Resolves to true when the draft on the tablet holds every answer given.
async function writeDraft(session) {
  if (session.editing || session.closed || !session.dirty) return true;
  session.dirty = false;  // answers given while this is on its way set it again
  const got = collect(session);
  const body = { form: session.form.form, fields: got.draftFields };
  if (got.occurredDraft) body.occurred_at = got.occurredDraft;
  try {
    if (session.draftId) {
      try {
        await updateDraft(session.draftId, body);
      } catch (error) {
        if (error.status !== 404) throw error;
        session.draftId = null;  // discarded meanwhile (Drafts): keep the answers in a new one
      }
    }
    if (!session.draftId) session.draftId = (await createDraft(body)).id;
    if (s === session) {
      $('autosave-status').textContent =
        `Kept as a draft on this tablet at ${formatTime(Date.now())}.`;
    }
    return true;
  } catch (error) {
    session.dirty = true;
    if (s === session && error.status !== 401) {
      $('autosave-status').textContent = `Not kept as a draft: ${error.message}`;
    }
    return false;
  }
}

async function saveAsDraft(session) {
  if (session.busy) return;
  session.busy = true;
  setBusy(true);
  session.dirty = true;  // kept even when nothing was answered yet
  const kept = await queueDraft(session);
  session.busy = false;
  setBusy(false);
  if (!kept) {
    showErrors(session, [{ widget: null, message: $('autosave-status').textContent }],
      'Not kept as a draft');
    return;
  }
  session.closed = true;
  await go('home');
  announce('Kept as a draft on this tablet. It is not sent until you finish it and press Save.');
}

// Leaving the form (Home, Sign out, idle): a new record's answers are kept as a draft; a change to
// a stored record is only dropped once the worker says so.
async function leave(session, { silent }) {
  if (session.closed) return '';
  if (session.editing) {
    if (session.dirty && !silent) {
      const choice = await ask({
        title: 'Leave without saving?',
        text: 'Your changes to this record are not saved yet.',
        buttons: [
          { label: 'Leave without saving', value: 'leave', kind: 'danger' },
          { label: 'Stay on the record', value: 'stay', kind: 'secondary' },
        ],
      });
      if (choice !== 'leave') return STAY;
    }
    session.closed = true;
    return '';
  }
  const kept = await queueDraft(session);
  session.closed = true;
  if (!kept) return 'Your latest answers could not be kept as a draft.';
  return session.draftId ? 'Your answers are kept as a draft on this tablet.' : '';
}

// --- saving ----------------------------------------------------------------------------------

async function save(session) {
  if (session.busy || session.closed) return;
  session.busy = true;
  setBusy(true);
  try {
    const got = collect(session);
    // What was typed is in the draft before anything else, whatever happens next.
    await queueDraft(session);
    if (got.errors.length) {
      // The page's own findings, and the app's on the rest, in one summary.
      const checked = await checkRecord({ form: session.form.form, fields: got.fields,
        occurred_at: got.occurredAt }).catch(() => null);
      const mine = new Set(got.errors.map((e) => e.widget));
      const more = (checked?.errors ?? []).map((e) => fromServer(session, e))
        .filter((e) => !mine.has(e.widget));
      showErrors(session, [...got.errors, ...more]);
      return;
    }
    if (session.editing) {
      const body = { fields: got.fields };
      if (got.occurredAt) body.occurred_at = got.occurredAt;
      await editRecord(session.record.id, body);
      session.closed = true;
      await go(session.returnTo, ...(session.returnTo === 'record' ? [session.record.id] : []));
      announce('Changes saved on this tablet. They will be sent at the next sync.');
      return;
    }
    const body = { form: session.form.form, fields: got.fields };
    if (got.occurredAt) body.occurred_at = got.occurredAt;
    if (got.subject) body.subject = got.subject;
    if (session.draftId) body.draft_id = session.draftId;
    const saved = await createRecord(body);
    session.closed = true;
    await go('home');
    announce(`${session.form.label} saved on this tablet. It will be sent at the next sync.` +
      seenBefore(saved?.seen_before));
  } catch (error) {
    if (error.status === 401) return;  // signed out: the PIN pad is showing
    const errors = error.errors?.length
      ? error.errors.map((e) => fromServer(session, e))
      : [{ widget: null, message: error.message }];
    showErrors(session, errors);
  } finally {
    session.busy = false;
    if (s === session && !session.closed) setBusy(false);
  }
}

// --- wiring (once) ---------------------------------------------------------------------------

function answered(event, delay) {
  const session = s;
  if (!session || session.closed || !$('screen-form').contains(event.target)) return;
  updateRelevance(session);
  if (event.target.dataset?.noDraft) return;  // the person's details, the list filter
  session.dirty = true;
  if (!session.editing) scheduleDraft(session, delay);
}

export function wireForm() {
  const form = $('record-form');
  form.addEventListener('input', (event) => answered(event, TYPING_PAUSE_MS));
  form.addEventListener('change', (event) => answered(event, CHOICE_PAUSE_MS));
  // Enter in a text box must not send the form anywhere.
  form.addEventListener('submit', (event) => event.preventDefault());
  // The tablet may close the app at any moment once it is out of sight.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden' && s && !s.closed && s.dirty) queueDraft(s);
  });
  window.addEventListener('pagehide', () => {
    if (s && !s.closed && s.dirty) queueDraft(s);
  });
}

// " Seen before: …" after saving a contact with a person's details: how many earlier contacts
// the organisation has had with them this year (a count only).
function seenBefore(count) {
  if (count === undefined || count === null) return '';
  if (count === 0) return ' First contact with this person this year.';
  return ` Seen before: ${count} earlier contact${count === 1 ? '' : 's'} with this person this year.`;
}
