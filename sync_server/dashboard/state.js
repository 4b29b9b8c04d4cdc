// The dashboard's shared state: who is signed in, the report on screen and the filters.

import { currentFy } from './dates.js';

export const state = {
  session: null,     // {credential, device_id, user, org, role}
  report: null,      // the last REPORT for state.fy / state.org
  approvals: null,   // GET /v1/approvals, or the report's own list when that is unavailable
  orgs: [],
  fy: currentFy(new Date()),
  priority: '',
  org: '',
  quarter: '',
  loadSeq: 0,        // guards against a slow response overwriting a newer one
};

export function isCoordinator() {
  return state.session?.role === 'coordinator';
}

// The partnership's designated safeguarding lead: the safeguarding queue, and nothing else.
export function isSafeguardingLead() {
  return state.session?.role === 'safeguarding_lead';
}
