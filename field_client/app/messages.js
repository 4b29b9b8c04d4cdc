// Messages: the live region saying what just happened, the alert for what went wrong, and running
// an action that may fail.

import { $ } from './dom.js';
import { ApiError } from './api.js';

export function announce(message) {
  const notice = $('notice');
  // Emptied first so that the same message twice is announced twice.
  notice.textContent = '';
  if (message) requestAnimationFrame(() => { notice.textContent = message; });
}

export function showAlert(message) {
  const box = $('alert');
  box.textContent = message || '';
  box.hidden = !message;
}

export function clearMessages() {
  $('notice').textContent = '';
  showAlert('');
}

// Runs an action, showing its failure in the alert. A 401 has already taken the page to the PIN
// pad or the "open the address" message, so it is not repeated. Resolves to undefined on failure.
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    if (error?.status !== 401) showAlert(error.message);
    return undefined;
  }
}
