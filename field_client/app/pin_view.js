// The PIN pad of a shared tablet: big keys, the digits hidden as they are typed, Sign in; a wrong
// PIN gets the app's own message (how many tries are left, or how long to wait).

import { $ } from './dom.js';
import { signIn } from './api.js';
import { showScreen } from './nav.js';

const MAX_DIGITS = 12;
let onSignedIn = async () => {};

export function showPin(message = '') {
  $('pin-input').value = '';
  $('pin-error').textContent = message;
  showScreen('pin', 'Sign in', { focus: false });
  $('pin-title').focus();
}

async function submit(event) {
  event.preventDefault();
  const input = $('pin-input');
  const error = $('pin-error');
  const pin = input.value.trim();
  if (!pin) {
    error.textContent = 'Enter your PIN, then press Sign in.';
    input.focus();
    return;
  }
  const button = $('pin-submit');
  button.disabled = true;
  error.textContent = '';
  try {
    const state = await signIn(pin);
    input.value = '';
    await onSignedIn(state);
  } catch (failure) {
    input.value = '';
    error.textContent = failure.message;
    input.focus();
  } finally {
    button.disabled = false;
  }
}

// `handler(state)` runs once a worker is signed in.
export function wirePin(handler) {
  onSignedIn = handler;
  const input = $('pin-input');
  $('pin-form').addEventListener('submit', submit);
  $('keypad').addEventListener('click', (event) => {
    const key = event.target.closest('button');
    if (!key) return;
    if (key.dataset.digit !== undefined) {
      if (input.value.length < MAX_DIGITS) input.value += key.dataset.digit;
    } else if (key.id === 'pin-delete') {
      input.value = input.value.slice(0, -1);
    } else if (key.id === 'pin-clear') {
      input.value = '';
    }
    $('pin-error').textContent = '';
  });
  // Typed on a keyboard: digits only.
  input.addEventListener('input', () => {
    input.value = input.value.replace(/\D/g, '').slice(0, MAX_DIGITS);
  });
}
