// Moving between screens, by buttons only (no swipes, no address changes): one <section
// data-screen> is shown at a time and focus goes to its heading, so a screen reader starts there.

import { $ } from './dom.js';
import { clearMessages, announce } from './messages.js';

const screens = {};      // name -> async (...args) that renders it and calls showScreen
let beforeLeave = null;  // set by the open form: keeps its answers before the page moves on

// What a leave step returns to stop the move (the worker chose to stay on the form).
export const STAY = Symbol('stay');

export function registerScreens(map) {
  Object.assign(screens, map);
}

// The form sets this while it is open: async ({silent}) resolving to a message for the next
// screen, or STAY. `silent` (signing out, idle) means nobody is there to answer a question.
export function setBeforeLeave(handler) {
  beforeLeave = handler;
}

// Runs the open form's leave step; resolves to its message, or STAY.
export async function leaveCurrent({ silent = false } = {}) {
  const handler = beforeLeave;
  if (!handler) return '';
  beforeLeave = null;
  const result = await handler({ silent });
  if (result === STAY) beforeLeave = handler;
  return result || '';
}

// Shows screen `name`; resolves to false when the open form kept the worker where they were.
export async function go(name, ...args) {
  const notice = await leaveCurrent();
  if (notice === STAY) return false;
  clearMessages();
  await screens[name](...args);
  if (notice) announce(notice);
  return true;
}

const SIGNED_OUT_SCREENS = new Set(['boot', 'nokey', 'pin']);

export function showScreen(name, title, { focus = true } = {}) {
  for (const section of document.querySelectorAll('[data-screen]')) {
    section.hidden = section.id !== `screen-${name}`;
  }
  const signedIn = !SIGNED_OUT_SCREENS.has(name);
  $('who').hidden = !signedIn;
  $('home-button').hidden = !signedIn || name === 'home';
  document.title = `${title} – Beatbook`;
  window.scrollTo(0, 0);
  if (focus) $(`screen-${name}`).querySelector('h1')?.focus();
}
