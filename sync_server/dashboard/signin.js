// Signing in with a one-time code (enrolment as a dashboard device) and out, and switching
// between the sign-in form and the dashboard.

import { $ } from './dom.js';
import { state, isCoordinator, isSafeguardingLead } from './state.js';
import { DASHBOARD_ROLES, saveSession, forgetSession, api } from './api.js';
import { showError } from './messages.js';
import { loadOrgs } from './filters.js';
import { loadReturn } from './return_view.js';
import { selectTab } from './tabs.js';

function deviceName() {
  const ua = navigator.userAgent;
  const browser = /(Edg|Firefox|Chrome|Chromium|Safari)\/(\d+)/.exec(ua);
  const os = /(Windows|Android|iPad|iPhone|Mac OS X|CrOS|Linux)/.exec(ua);
  const name = browser ? `${browser[1] === 'Edg' ? 'Edge' : browser[1]} ${browser[2]}` : 'browser';
  return `dashboard (${name}${os ? ` on ${os[1]}` : ''})`;
}

export async function signIn(token) {
  const errorBox = $('signin-error');
  errorBox.textContent = '';
  if (!token) {
    errorBox.textContent = 'Enter the sign-in code.';
    $('signin-token').focus();
    return;
  }
  const submit = $('signin-submit');
  submit.disabled = true;
  try {
    const reply = await api('/v1/enrol', {
      method: 'POST',
      auth: false,
      body: { token, device_name: deviceName(), client: 'dashboard' },
    });
    // The server refuses other roles for the dashboard; this is a second line, not the control.
    if (!DASHBOARD_ROLES.includes(reply.role)) {
      errorBox.textContent =
        `This sign-in code is for a ${reply.role}; the dashboard is for coordinators, board members and the safeguarding lead.`;
      return;
    }
    state.session = {
      credential: `${reply.device_id}.${reply.secret}`,
      device_id: reply.device_id,
      user: reply.user,
      org: reply.org,
      role: reply.role,
    };
    saveSession(state.session);
    $('signin-token').value = '';
    showApp();
    $('app-title').focus();  // the sign-in form is gone: start the keyboard from the top
  } catch (error) {
    errorBox.textContent = error.message;
    $('signin-token').focus();
  } finally {
    submit.disabled = false;
  }
}

export function signOut(message = '') {
  forgetSession();
  state.session = null;
  state.report = null;
  state.approvals = null;
  state.priority = state.org = state.quarter = '';
  for (const id of ['filter-priority', 'filter-org', 'filter-quarter']) $(id).value = '';
  state.loadSeq += 1;  // drops any response still on its way
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  // Nothing one person saw, or typed and did not save, is left for the next to sign in here.
  for (const id of ['return-body', 'pack-body', 'sync-body', 'approve-body', 'late-body',
    'conflicts-body', 'warnings', 'safeguarding-body', 'owed-body', 'places-body']) {
    $(id).replaceChildren();
  }
  $('tab-safeguarding').textContent = 'Safeguarding';
  showError('');
  showSignin(message);
}

// The Sign out button: the server revokes this browser's credential (POST /v1/signout), so a
// copy of it left in the browser's storage opens nothing; then the page forgets it. If the server
// cannot be reached the page still forgets it, and says the credential may still be valid.
export async function signOutEverywhere() {
  let message = '';
  if (state.session) {
    try {
      await api('/v1/signout', { method: 'POST', body: {} });
    } catch (error) {
      if (error.status !== 401 && error.status !== 403) {
        message = 'Signed out on this browser, but the server could not be told: ' +
          'ask an administrator to revoke this sign-in (sync_server revoke).';
      }
    }
  }
  signOut(message);
}

export function showSignin(message = '') {
  $('app').hidden = true;
  $('who').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
  document.title = 'Sign in – Beatbook dashboard';
  $('signin-token').focus();
}

const ROLE_WORDS = { board: 'board member', safeguarding_lead: 'safeguarding lead' };

export function showApp() {
  const { user, org, role } = state.session;
  $('signin').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-text').textContent = `${user} (${org}, ${ROLE_WORDS[role] ?? role})`;
  if (isSafeguardingLead()) {
    showSafeguardingOnly();
    return;
  }
  // What a safeguarding lead's session on this page hid, back.
  $('app-title').textContent = 'Quarterly return';
  $('filters').hidden = false;
  for (const tab of document.querySelectorAll('#tabs [role="tab"]')) tab.hidden = false;
  // Board members read only: the coordinator's tabs and panels stay hidden and are never loaded
  // (the server refuses those endpoints to them anyway).
  for (const node of document.querySelectorAll('[data-coordinator]')) {
    node.hidden = !isCoordinator() || node.getAttribute('role') === 'tabpanel';
  }
  $('drill-hint').hidden = !isCoordinator();
  selectTab($('tab-return'), false);
  document.title = 'Beatbook dashboard';
  loadOrgs();
  loadReturn();
}

// The safeguarding lead's page: the queue alone, no return, filters or other tabs (the server
// refuses those endpoints to the role anyway).
function showSafeguardingOnly() {
  $('app-title').textContent = 'Safeguarding queue';
  $('filters').hidden = true;
  for (const tab of document.querySelectorAll('#tabs [role="tab"]')) {
    tab.hidden = tab.id !== 'tab-safeguarding';
  }
  for (const panel of document.querySelectorAll('#app [role="tabpanel"]')) panel.hidden = true;
  selectTab($('tab-safeguarding'), false);
  document.title = 'Safeguarding queue – Beatbook dashboard';
}
