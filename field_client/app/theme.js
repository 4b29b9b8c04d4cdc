// Light and dark themes. The worker's choice is kept in localStorage (a preference, not data);
// without one the page is dark after dusk (the app's dark_hint) or when the system asks for it.

import { $ } from './dom.js';

const KEY = 'beatbook.app.theme';

function stored() {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'dark' || value === 'light' ? value : null;
  } catch {
    return null;  // storage refused: no remembered choice
  }
}

function systemTheme() {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  // The button says what pressing it does.
  $('theme-button').textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
}

export function initTheme() {
  apply(stored() ?? systemTheme());
  $('theme-button').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Not remembered, but switched.
    }
    apply(next);
  });
}

// Once the app has said whether it is after dusk.
export function themeFromState(state) {
  if (stored()) return;
  apply(state?.dark_hint ? 'dark' : systemTheme());
}
