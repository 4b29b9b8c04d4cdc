// Reading the report (docs/indicators.md): its priorities and aims, indicators grouped for
// display, the approved quarters, and values written as text.

import { state } from './state.js';

export function prioritiesOf(report) {
  // Newer servers send the catalogue's priorities and aims with their labels; otherwise the ids,
  // in the order the indicators come.
  if (Array.isArray(report.priorities) && report.priorities.length) return report.priorities;
  const seen = new Map();
  for (const ind of report.indicators) {
    if (!seen.has(ind.priority)) seen.set(ind.priority, { id: ind.priority, label: ind.priority });
  }
  return [...seen.values()];
}

function aimsOf(report) {
  const aims = new Map();
  for (const aim of report.aims || []) aims.set(aim.id, aim);
  return aims;
}

// [{priority, aims: [{aim, indicators: [...]}]}] in catalogue order, after the priority filter.
export function groupIndicators(report, priorityFilter) {
  const aimInfo = aimsOf(report);
  const groups = [];
  for (const priority of prioritiesOf(report)) {
    if (priorityFilter && priority.id !== priorityFilter) continue;
    const byAim = new Map();
    for (const ind of report.indicators) {
      if (ind.priority !== priority.id) continue;
      if (!byAim.has(ind.aim)) {
        byAim.set(ind.aim, {
          aim: aimInfo.get(ind.aim) || { id: ind.aim, label: ind.aim, direction: ind.direction },
          indicators: [],
        });
      }
      byAim.get(ind.aim).indicators.push(ind);
    }
    if (byAim.size) groups.push({ priority, aims: [...byAim.values()] });
  }
  return groups;
}

export function approvedQuarters() {
  const approved = new Map();
  for (const a of state.approvals || []) approved.set(a.quarter, a);
  return approved;
}

export function formatValue(ind, value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'string') return value.replace(/_/g, ' ');
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function cellText(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}
