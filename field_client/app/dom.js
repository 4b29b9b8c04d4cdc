// DOM helpers: build nodes (text only ever through textContent, never parsed as HTML, as the
// strict Content-Security-Policy and the data require), icons, and the one modal dialog.

const SVG_NS = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

// el('p', {class: 'x', text: 'Saved', 'aria-describedby': 'h1'}, child, 'text', ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  appendAll(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

export function appendAll(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

// Replaces a node's children; null, undefined and false children are left out (replaceChildren
// would write them as text).
export function fill(node, ...children) {
  node.replaceChildren();
  appendAll(node, children);
  return node;
}

export function srOnly(text) {
  return el('span', { class: 'sr-only', text });
}

// Icons drawn as SVG paths (no icon font, no emoji: both may be missing on a tablet). They are
// decoration beside a word, so hidden from assistive technology.
const ICONS = {
  clock: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 2.2a6.8 6.8 0 1 1 0 13.6 6.8 6.8 0 0 1 0-13.6zM11 7v5.6l4.2 2.5 1-1.7-3.2-1.9V7z',
  check: 'M9.2 16.6 4.8 12.2l-1.6 1.6 6 6L21 8l-1.6-1.6z',
  alert: 'M12 2 1 21h22L12 2zm0 4.3L19.5 19h-15L12 6.3zM11 10v5h2v-5zm0 6v2h2v-2z',
  pencil: 'M3 17.2V21h3.8l11-11-3.8-3.8-11 11zM20.7 7a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.8 3.8z',
  sync: 'M12 4V1L8 5l4 4V6a6 6 0 0 1 5.7 7.9l1.5 1.5A8 8 0 0 0 12 4zm-5.7 4.1L4.8 6.6A8 8 0 0 0 12 20v3l4-4-4-4v3a6 6 0 0 1-5.7-7.9z',
  cross: 'M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z',
};

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

// Asks a question in the page's one modal dialog and resolves to the value of the button pressed,
// or 'cancel' on Escape. Every button names its action ("Delete record", "Keep record"), never
// "Yes"/"OK". Focus returns to what was focused before.
//   const choice = await ask({title, text, buttons: [{label, value, kind: 'danger'|'secondary'}]});
export function ask({ title, text, buttons }) {
  const dialog = $('ask-dialog');
  const opener = document.activeElement;
  $('ask-title').textContent = title;
  $('ask-text').textContent = text;
  const actions = $('ask-actions');
  return new Promise((resolve) => {
    let answer = 'cancel';
    actions.replaceChildren(...buttons.map((b) => el('button', {
      type: 'button',
      class: b.kind ? `big ${b.kind}` : 'big',
      text: b.label,
      onclick: () => { answer = b.value; dialog.close(); },
    })));
    dialog.addEventListener('close', () => {
      if (opener && document.contains(opener) && !opener.closest('[hidden]')) opener.focus();
      resolve(answer);
    }, { once: true });
    dialog.showModal();
    // Start on the first button that destroys nothing: Enter must not delete by accident.
    const safe = buttons.findIndex((b) => b.kind !== 'danger');
    actions.querySelectorAll('button')[Math.max(safe, 0)]?.focus();
  });
}

export function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
}
