// Tabs (WAI-ARIA tabs pattern: arrow keys move between tabs, Tab moves into the panel).

import { $ } from './dom.js';

// What selecting a tab loads or renders, by tab id (set by app.js).
let loaders = {};

export function setTabLoaders(byTabId) {
  loaders = byTabId;
}

function visibleTabs() {
  return [...document.querySelectorAll('#tabs [role="tab"]')].filter((tab) => !tab.hidden);
}

export function selectTab(tab, focus = true) {
  for (const other of visibleTabs()) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
  loaders[tab.id]?.();
}

export function onTabKey(event) {
  const tabs = visibleTabs();
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return;
  const moves = {
    ArrowRight: (index + 1) % tabs.length,
    ArrowLeft: (index - 1 + tabs.length) % tabs.length,
    Home: 0,
    End: tabs.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[moves[event.key]]);
}

export function activeTabId() {
  return visibleTabs().find((tab) => tab.getAttribute('aria-selected') === 'true')?.id;
}
