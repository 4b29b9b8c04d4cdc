// DOM helpers: build nodes (text only ever through textContent, never parsed as HTML, as the
// strict Content-Security-Policy and server data require) and open modal dialogs.

const SVG_NS = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

// el('td', {class: 'x', text: '3', 'data-period': 'Q1'}, child, 'text', ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  appendAll(node, children);
  return node;
}

export function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.setAttribute('class', value);
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

export function srOnly(text) {
  return el('span', { class: 'sr-only', text });
}

// Dialogs: showModal() makes the page behind inert and closes on Escape; focus goes back to
// whatever opened the dialog.
export function openDialog(dialog) {
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    if (opener && document.contains(opener)) opener.focus();
  }, { once: true });
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('[data-close]')?.focus();
}
