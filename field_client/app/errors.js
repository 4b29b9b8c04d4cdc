// Errors the GOV.UK way: a summary at the top that takes focus and links to each question, and
// the same words under the question, after a visually hidden "Error:".

import { $, el } from './dom.js';

// The app's messages may name a field by its name ("Field 'attendees': ..."): the worker knows
// it by its label.
export function inWords(message, labels) {
  return String(message).replace(/\b[Ff]ield '([A-Za-z0-9_]+)'|'([A-Za-z0-9_]+)'/g,
    (whole, a, b) => {
      const name = a ?? b;
      return labels.has(name) ? (a ? labels.get(name) : `"${labels.get(name)}"`) : whole;
    });
}

// Shows `errors` ([{message, target}], target being the element to focus, or null) in the
// summary `prefix` ('form' or 'returns'), titled `title`, and moves focus to it.
export function showSummary(prefix, title, errors) {
  const box = $(`${prefix}-errors`);
  $(`${prefix}-errors-title`).textContent = title;
  $(`${prefix}-errors-list`).replaceChildren(...errors.map(({ message, target }) => {
    if (!target) return el('li', { text: message });
    if (!target.id) target.id = `t-${Math.random().toString(36).slice(2)}`;
    return el('li', {}, el('a', {
      href: `#${target.id}`,
      text: message,
      // Focus the question without changing the address.
      onclick: (event) => {
        event.preventDefault();
        target.focus();
        target.scrollIntoView({ block: 'center' });
      },
    }));
  }));
  box.hidden = false;
  box.focus();
  box.scrollIntoView({ block: 'start' });
}

export function hideSummary(prefix) {
  $(`${prefix}-errors`).hidden = true;
  $(`${prefix}-errors-list`).replaceChildren();
}

export function summaryTitle(count) {
  return count === 1
    ? 'Nothing was saved: 1 answer needs changing'
    : `Nothing was saved: ${count} answers need changing`;
}
