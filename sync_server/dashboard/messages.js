// Messages: the aria-live status and alert regions, and running an action that may fail.

import { $ } from './dom.js';
import { state } from './state.js';
import { ApiError } from './api.js';

export function announce(message) {
  const status = $('status');
  // Emptied first so that the same message twice is announced twice.
  status.textContent = '';
  requestAnimationFrame(() => { status.textContent = message; });
}

export function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

// Runs an action, showing its failure in the alert region. Returns undefined on failure.
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    // Once signed out the sign-in form shows the message; do not repeat it above.
    if (state.session) showError(error.message);
    return undefined;
  }
}
