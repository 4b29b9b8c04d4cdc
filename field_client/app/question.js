// What every question of a form has (fields.js builds the questions): a label or legend, a hint
// with "Required", an error line under it, and the widget object the form screen drives.

import { el, srOnly } from './dom.js';

// The parts every question has: a label or legend, a hint (with "Required"), an error line.
// `lang`: the language the form's own words are in, when not the app's (its words, like
// "Required", stay English), so a screen reader speaks each in its language.
export function question(id, label, help, required, group, lang) {
  const hintId = `h-${id}`;
  const errorId = `e-${id}`;
  const wrapper = el(group ? 'fieldset' : 'div', { class: 'question', id: `q-${id}` });
  const title = group
    ? el('legend', { class: 'question-label', text: label, lang })
    : el('label', { class: 'question-label', for: `f-${id}`, text: label, lang });
  const hint = el('p', { class: 'hint', id: hintId },
    required ? el('strong', { class: 'req', text: 'Required' }) : null,
    required && help ? ' ' : null,
    help ? el('span', { text: help, lang }) : null);
  const error = el('p', { class: 'field-error', id: errorId, hidden: true });
  wrapper.append(title, hint, error);
  const describedBy = `${hintId} ${errorId}`;
  if (group) wrapper.setAttribute('aria-describedby', describedBy);
  return { wrapper, hint, error, describedBy };
}

export function errorSetter(parts, controls) {
  return (message) => {
    parts.error.replaceChildren();
    parts.error.hidden = !message;
    parts.wrapper.classList.toggle('has-error', Boolean(message));
    if (message) parts.error.append(srOnly('Error: '), message);
    for (const control of controls()) {
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  };
}

// Tells the form that an answer changed when a button, not typing, changed it.
export function changed(node) {
  node.dispatchEvent(new Event('change', { bubbles: true }));
}

export function base(field, parts, controls, extra) {
  return {
    name: field.name,
    field,
    node: parts.wrapper,
    setError: errorSetter(parts, controls),
    setShown(shown) { parts.wrapper.hidden = !shown; },
    get shown() { return !parts.wrapper.hidden; },
    ...extra,
  };
}
