// The device's local API (docs/app-api.md): fetch with the session cookie the page got for the
// launch key, JSON both ways, and errors carrying the server's own message and, for validation,
// its errors per field.

export class ApiError extends Error {
  constructor(message, status, code, errors = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.errors = errors;  // [{field, message}] for 400s that name fields
  }
}

// What api() calls when the app answers that the page is not signed in (401): `locked` (a shared
// tablet's worker was signed out) or `not_signed_in_to_app` (no launch key). Set by main.js.
let onRefused = () => {};

export function onSignedOut(handler) {
  onRefused = handler;
}

// For requests made without api() (a photo's bytes): the app refused the page (401).
export function signedOut(error) {
  onRefused(error);
}

// fetch and parse; rejects with an ApiError. `quiet401` leaves a 401 to the caller (the PIN pad's
// own "wrong PIN" and boot's first look).
export async function api(path, { method = 'GET', body, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    // The page and the API are one process on this tablet: it has stopped.
    throw new ApiError('The app on this tablet is not answering. Start it again and open the ' +
      'address it prints.', 0, 'network');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !quiet401) onRefused(error);
    throw error;
  }
  return response.json();
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = `The app answered ${response.status}.`;
  let errors = [];
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    if (body?.error?.code) code = body.error.code;
    // The doc puts "errors" beside "error"; accept it inside too.
    const list = body?.errors ?? body?.error?.errors;
    if (Array.isArray(list)) errors = list.filter((e) => e && typeof e.message === 'string');
  } catch {
    // Not JSON: keep the plain message.
  }
  return new ApiError(message, response.status, code, errors);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== '' && value !== undefined && value !== null) search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const getState = () => api('/app/api/state', { quiet401: true });
export const getForms = () => api('/app/api/forms');
export const getRecords = (form = '') => api(`/app/api/records${query({ form })}`);
export const getRecord = (id) => api(`/app/api/records/${encodeURIComponent(id)}`);
export const createRecord = (body) => api('/app/api/records', { method: 'POST', body });
export const editRecord = (id, body) =>
  api(`/app/api/records/${encodeURIComponent(id)}`, { method: 'PUT', body });
export const deleteRecord = (id) =>
  api(`/app/api/records/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const checkRecord = (body) => api('/app/api/check', { method: 'POST', body });
export const getDrafts = () => api('/app/api/drafts');
export const createDraft = (body) => api('/app/api/drafts', { method: 'POST', body });
export const updateDraft = (id, body) =>
  api(`/app/api/drafts/${encodeURIComponent(id)}`, { method: 'PUT', body });
export const deleteDraft = (id) =>
  api(`/app/api/drafts/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const setLanguage = (language) =>
  api('/app/api/language', { method: 'PUT', body: { language } });
export const sync = () => api('/app/api/sync', { method: 'POST', body: {} });
export const getReturns = (fy) => api(`/app/api/returns${query({ fy })}`);
export const signIn = (pin) => api('/app/api/signin', { method: 'POST', body: { pin }, quiet401: true });
export const signOut = () => api('/app/api/signout', { method: 'POST', body: {} });
export const startSession = (key) =>
  api('/app/session', { method: 'POST', body: { key }, quiet401: true });
