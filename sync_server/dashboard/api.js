// The server's API (docs/protocol.md section 3): fetch with the device credential, its errors,
// and the credential itself, kept in localStorage from enrolment.

import { state } from './state.js';

const STORAGE_KEY = 'beatbook.credential';
export const DASHBOARD_ROLES = ['coordinator', 'board', 'safeguarding_lead'];

export function loadSession() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    if (stored && typeof stored.credential === 'string' && DASHBOARD_ROLES.includes(stored.role)) {
      return stored;
    }
  } catch {
    // A damaged entry is treated as signed out.
  }
  localStorage.removeItem(STORAGE_KEY);
  return null;
}

export function saveSession(session) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function forgetSession() {
  localStorage.removeItem(STORAGE_KEY);
}

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// What api() calls when the server no longer accepts this browser's credential (app.js: sign out).
let credentialRefused = () => {};

export function onCredentialRefused(handler) {
  credentialRefused = handler;
}

// fetch with the credential; resolves to JSON (or a Blob), rejects with an ApiError carrying the
// server's message. A 401, or a 403 device_revoked, means this browser's credential is no longer
// good: sign out and say why.
export async function api(path, { method = 'GET', body, as = 'json', auth = true } = {}) {
  const headers = {};
  if (auth && state.session) headers.Authorization = `Bearer ${state.session.credential}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new ApiError('The server could not be reached. Check the connection and try again.', 0,
      'network');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    const signedOut = response.status === 401 || error.code === 'device_revoked';
    if (auth && state.session && signedOut) credentialRefused(error.message);
    throw error;
  }
  return as === 'blob' ? response.blob() : response.json();
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = `The server answered ${response.status} ${response.statusText}.`.replace(' .', '.');
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    if (body?.error?.code) code = body.error.code;
  } catch {
    // Not JSON: keep the generic message.
  }
  return new ApiError(message, response.status, code);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && value !== undefined && value !== null) search.set(key, value);
  }
  return search.toString();
}
