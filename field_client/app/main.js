// Beatbook field app: the worker's touch screen, served by `field_client app` from the tablet
// itself (docs/app-api.md). This entry point opens the session with the launch key, wires the
// screens to the modules beside it, and signs a shared tablet's worker in and out.
//
// Plain ES modules, no framework, no build step, nothing from the internet; the page runs under a
// strict Content-Security-Policy (no inline script or style), so every node is built with the DOM
// API and text is only ever set through textContent.

import { $, closeDialogs } from './dom.js';
import { app, setForms } from './state.js';
import { onSignedOut, startSession, getState, getForms, signOut } from './api.js';
import { attempt, clearMessages, showAlert } from './messages.js';
import { registerScreens, go, showScreen, leaveCurrent, setBeforeLeave } from './nav.js';
import { initTheme, themeFromState } from './theme.js';
import { startIdle, stopIdle } from './idle.js';
import { showPin, wirePin } from './pin_view.js';
import { openHome, wireHome } from './home_view.js';
import { openForm, wireForm } from './form_view.js';
import { openRecords, openRecord } from './records_view.js';
import { openDrafts } from './drafts_view.js';
import { openReturns, wireReturns } from './returns_view.js';

function renderWho() {
  const worker = app.state?.locked ? null : app.state?.worker;
  $('who').textContent = worker
    ? `Signed in as ${worker.user}, ${worker.org_label || worker.org}` : '';
  $('signout-button').hidden = !(app.state?.shared && worker);
}

function showNoKey() {
  stopIdle();
  closeDialogs();
  setBeforeLeave(null);
  renderWho();
  $('signout-button').hidden = true;
  showScreen('nokey', 'Open the app from its address');
}

// A worker is in (a device without PINs from the start; a shared tablet after the PIN pad).
async function enter(state) {
  app.state = state;
  themeFromState(state);
  renderWho();
  if (state.locked) {
    stopIdle();
    showPin();
    return;
  }
  const reply = await attempt(getForms);
  setForms(reply?.forms ?? []);
  if (state.shared) {
    const seconds = state.idle_timeout_s || 300;
    const minutes = Math.round(seconds / 60);
    const span = seconds < 90 ? `${seconds} seconds` : `${minutes} minutes`;
    startIdle(seconds, () => signOutNow(`Signed out after ${span} without use.`));
  }
  await go('home');
}

// Signing out (the button, or idle): the open form is kept as a draft first.
async function signOutNow(message = '') {
  const kept = await leaveCurrent({ silent: true });
  stopIdle();
  closeDialogs();
  const state = await attempt(signOut);
  if (!state) return;  // the alert says why; the worker stays signed in
  app.state = state;
  setForms([]);
  renderWho();
  clearMessages();
  showPin([message, typeof kept === 'string' ? kept : ''].filter(Boolean).join(' '));
}

// The app answered 401: the worker was signed out (idle, on the app's side), or this page has no
// session (an old address, or the app was restarted with a new key).
function refused(error) {
  if (error.code === 'locked') {
    stopIdle();
    closeDialogs();
    setBeforeLeave(null);
    app.state = { ...app.state, locked: true, worker: null };
    setForms([]);
    renderWho();
    showPin('You were signed out. Sign in with your PIN to go on.');
    return;
  }
  showNoKey();
}

function wire() {
  initTheme();
  registerScreens({
    home: openHome,
    form: openForm,
    records: openRecords,
    record: openRecord,
    drafts: openDrafts,
    returns: openReturns,
  });
  onSignedOut(refused);
  wirePin(enter);
  wireHome();
  wireForm();
  wireReturns();
  $('home-button').addEventListener('click', () => go('home'));
  $('signout-button').addEventListener('click', () => signOutNow());
}

// The `k` of the address's fragment ("#k=SECRET"), taken as it is (URLSearchParams would read a
// "+" as a space).
function launchKey() {
  const match = /(?:^#|&)k=([^&]*)/.exec(location.hash);
  if (!match) return '';
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

async function boot() {
  wire();
  // The launch key is in the address's fragment (never sent over the network): trade it for the
  // session cookie, then take it out of the address bar and the history.
  const key = launchKey();
  if (key) {
    try {
      await startSession(key);
    } catch {
      // A wrong or old key: the state call below says so.
    } finally {
      history.replaceState(null, '', location.pathname + location.search);
    }
  }
  let state;
  try {
    state = await getState();
  } catch (error) {
    if (error.status === 401) {
      showNoKey();
    } else {
      showAlert(error.message);
    }
    return;
  }
  await enter(state);
}

boot();
