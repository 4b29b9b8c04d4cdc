// Beatbook dashboard: the coordinator's and the board's view of the quarterly return. This entry
// point wires the page's controls to the modules beside it and starts.
//
// Plain ES modules, no framework and no build step; sync_server serves these files as they are,
// under a strict Content-Security-Policy (no inline scripts or style attributes), so every node is
// built with the DOM API and text is only ever set through textContent (server data is never
// parsed as HTML). The API is docs/protocol.md section 3; the report's shape is docs/indicators.md.

import { $ } from './dom.js';
import { state } from './state.js';
import { loadSession, onCredentialRefused } from './api.js';
import { announce } from './messages.js';
import { fillFySelect } from './filters.js';
import { onFilterChange, loadReturn, onReturnRendered } from './return_view.js';
import { loadSync } from './health_view.js';
import { loadOwed } from './owed_view.js';
import { loadReview, renderReview } from './review_view.js';
import { renderPack } from './board_pack.js';
import { downloadCsv, downloadXlsx } from './downloads.js';
import { loadSafeguarding } from './safeguarding_view.js';
import { loadPlaces } from './places_view.js';
import { setTabLoaders, selectTab, onTabKey, activeTabId } from './tabs.js';
import { signIn, signOut, signOutEverywhere, showSignin, showApp } from './signin.js';

function wire() {
  // What the modules leave to the page: signing out on a refused credential, what each tab loads,
  // and which open tab re-renders with the return.
  onCredentialRefused(signOut);
  setTabLoaders({
    'tab-sync': loadSync, 'tab-review': loadReview, 'tab-safeguarding': loadSafeguarding,
    'tab-owed': loadOwed, 'tab-places': loadPlaces, 'tab-pack': renderPack,
  });
  onReturnRendered(() => {
    const tab = activeTabId();
    if (tab === 'tab-pack') renderPack();
    if (tab === 'tab-review') renderReview();
    if (tab === 'tab-places') loadPlaces({ ifYearChanged: true });
  });
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn($('signin-token').value.trim());
  });
  $('signout').addEventListener('click', async () => {
    await signOutEverywhere();
    announce('Signed out.');
  });
  $('filters').addEventListener('change', onFilterChange);
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('refresh').addEventListener('click', () => {
    loadReturn();
    const loaders = {
      'tab-sync': loadSync, 'tab-review': loadReview, 'tab-owed': loadOwed, 'tab-places': loadPlaces,
    };
    loaders[activeTabId()]?.();
  });
  $('download-csv').addEventListener('click', downloadCsv);
  $('download-xlsx').addEventListener('click', downloadXlsx);
  $('print').addEventListener('click', () => window.print());
  const tabs = $('tabs');
  tabs.addEventListener('keydown', onTabKey);
  tabs.addEventListener('click', (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) selectTab(tab);
  });
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close());
  }
  // Before printing from any tab, lay out the board pack: it is what prints.
  window.addEventListener('beforeprint', renderPack);
}

function start() {
  wire();
  fillFySelect();
  state.session = loadSession();
  if (state.session) showApp();
  else showSignin();
}

start();
