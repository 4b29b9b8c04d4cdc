// The field worker's app in a real browser: Debian's headless Chromium, driven by playwright-core,
// against real `field_client app` processes (docs/app-api.md) on tablets enrolled with a real
// sync_server, which is stopped while the workers log (offline) and started again to sync.
//
//   SYNC_SERVER=build/sync_server/sync_server FIELD_CLIENT=build/field_client/field_client \
//     node --test tests/browser/
//
// Optional: CHROMIUM (default /usr/bin/chromium), BROWSER_ARTIFACTS (where the screenshots go;
// default a new temporary directory, printed as a diagnostic). Every field_client run gets
// BEATBOOK_KEY_DIR, a temporary directory of this run's own.
//
// The page is driven as a person would: by the roles and the names they see (labels, button
// words), filling each form's required questions from the form's own JSON, fetched with the page's
// session. What reaches the server is checked against a count this file makes of what it logged,
// never against a figure the app or the server reports.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const SYNC_SERVER = process.env.SYNC_SERVER;
const FIELD_CLIENT = process.env.FIELD_CLIENT;
if (!SYNC_SERVER || !FIELD_CLIENT) {
  throw new Error('Set SYNC_SERVER and FIELD_CLIENT to the built binaries, e.g. ' +
    'SYNC_SERVER=build/sync_server/sync_server FIELD_CLIENT=build/field_client/field_client ' +
    'node --test tests/browser/');
}
for (const [name, file] of [['SYNC_SERVER', SYNC_SERVER], ['FIELD_CLIENT', FIELD_CLIENT]]) {
  if (!fs.existsSync(file)) throw new Error(`${name}=${file}: no such file`);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const run = promisify(execFile);
const STEP_MS = 10_000;  // any single wait
const FY = 2023;
// Every record is logged as having happened at 22:00 UK time on 1 June 2023 (BST): FY 2023, Q1.
const WHEN = { day: '1', month: '6', year: '2023', time: '22:00', iso: '2023-06-01T21:00:00Z' };
const QUARTER = 'Q1';
const ORG = 'street_pastors';
const PERSON_GROUP = 'Person (name and date of birth stay on this tablet)';
const PERSON = { name: 'Jane Testperson', day: '27', month: '3', year: '1990' };

const VIEWPORTS = {
  phone: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true },
  tablet: { viewport: { width: 800, height: 1280 }, hasTouch: true },
};

// Everything shared by the tests below; set up in before().
const env = {
  dir: '',
  keys: '',
  artifacts: '',
  server: null,      // the sync_server child process
  serverUrl: '',
  serverListen: '',  // 127.0.0.1:PORT, the same after a restart
  tablets: {},       // name -> {dir, user, role, org, pin?}
  apps: new Set(),   // running `field_client app` processes
  pages: {},         // name -> {context, page, app} kept from one test to the next
  logged: [],        // {tablet, user, form}: records this file saved through the page
  browser: null,
  consoleErrors: [],
  pageErrors: [],
  offsiteRequests: [],
};

// --- processes -------------------------------------------------------------------------------

async function syncServer(...args) {
  const { stdout } = await run(SYNC_SERVER, args, { timeout: STEP_MS, maxBuffer: 16 << 20 });
  return stdout.trim();
}

// field_client's environment: this run's key directory; a PIN only when given.
function fieldEnv(pin) {
  const childEnv = { ...process.env, BEATBOOK_KEY_DIR: env.keys };
  delete childEnv.FIELD_CLIENT_PIN;
  if (pin) childEnv.FIELD_CLIENT_PIN = pin;
  return childEnv;
}

async function fieldClient(args, { pin } = {}) {
  const { stdout } = await run(FIELD_CLIENT, args, { timeout: STEP_MS, env: fieldEnv(pin) });
  return stdout.trim();
}

function token(user, org, role) {
  return syncServer('token', '--data', path.join(env.dir, 'central'), '--user', user, '--org', org,
    '--role', role);
}

// Starts a long-running program and resolves once a line of its stdout matches `pattern`.
function startProcess(file, args, pattern, childEnv = process.env) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(file)} ${args[0]} said nothing like ${pattern} within ` +
        `${STEP_MS} ms: ${stdout} ${stderr}`));
    }, STEP_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = pattern.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(file)} ${args[0]} exited (${code ?? signal}): ${stderr}`));
    });
  });
}

async function stopProcess(child, signal = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// `sync_server serve` on `listen` (port 0 the first time, the same port after a restart).
async function startServer(listen) {
  const args = ['serve', '--data', path.join(env.dir, 'central'), '--listen', listen];
  let lastError;
  // A port just released may take a moment to be free again.
  for (let attempt = 0; attempt < 10; ++attempt) {
    try {
      const { child, match } = await startProcess(SYNC_SERVER, args, /listening on (\S+)/);
      env.server = child;
      env.serverListen = match[1];
      env.serverUrl = `http://${match[1]}`;
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw lastError;
}

async function stopServer() {
  await stopProcess(env.server);
  env.server = null;
}

// `field_client app` on a free port; resolves to {child, url, origin, port, key}.
async function startApp(tablet) {
  const { child, match } = await startProcess(FIELD_CLIENT,
    ['app', '--data', env.tablets[tablet].dir, '--listen', '127.0.0.1:0'],
    /app at (http:\/\/127\.0\.0\.1:(\d+))\/#k=(\S+)/, fieldEnv());
  env.apps.add(child);
  child.once('exit', () => env.apps.delete(child));
  return { child, url: `${match[1]}/#k=${match[3]}`, origin: match[1], port: Number(match[2]),
    key: match[3] };
}

async function stopApp(app, signal = 'SIGTERM') {
  await stopProcess(app.child, signal);
}

// A request to the app from outside the browser, Host and all headers as given.
function request(app, urlPath, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1',
      port: app.port,
      path: urlPath,
      method,
      timeout: STEP_MS,
      headers: {
        Host: `127.0.0.1:${app.port}`,
        ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
        ...headers,
      },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* a page, not JSON */ }
        resolve({ status: response.statusCode, headers: response.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${urlPath}: no answer within ${STEP_MS} ms`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// Rejects when `promise` has not settled within `ms` (page.evaluate has no timeout of its own).
function bounded(promise, what, ms = STEP_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// --- the browser -----------------------------------------------------------------------------

// HTTP errors the page meets on purpose, which Chromium reports on the console.
const EXPECTED_HTTP_ERRORS = [
  [400, /^\/app\/api\/records(\/[^/]+)?$/],  // a bad value: the app refuses to store it
  [400, /^\/app\/api\/photos$/],             // a file that is not a photo: refused
  [401, /^\/app\/api\/signin$/],             // a wrong PIN
  [401, /^\/app\/api\/state$/],              // the page opened without its key
  [401, /^\/app\/session$/],
  [503, /^\/app\/api\/sync$/],               // no signal
];

async function newPage(kind) {
  const context = await env.browser.newContext({ ...VIEWPORTS[kind], locale: 'en-GB',
    timezoneId: 'Europe/London' });
  context.setDefaultTimeout(STEP_MS);
  context.on('request', (req) => {
    const url = new URL(req.url());
    if (['blob:', 'data:', 'about:'].includes(url.protocol)) return;
    if (url.hostname !== '127.0.0.1') env.offsiteRequests.push(req.url());
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location()?.url || '';
    const status = /status of (\d+)/.exec(message.text());
    let pathname = '';
    try { pathname = new URL(where).pathname; } catch { /* no location */ }
    const expected = status && EXPECTED_HTTP_ERRORS.some(([code, re]) =>
      Number(status[1]) === code && re.test(pathname));
    if (!expected) env.consoleErrors.push(`${message.text()} (${where})`);
  });
  page.on('pageerror', (error) => env.pageErrors.push(String(error)));
  return { context, page };
}

// The app's JSON API, called from inside the page with the page's own session cookie.
async function pageApi(page, urlPath, { method = 'GET', body } = {}) {
  const reply = await bounded(page.evaluate(async ([p, m, b]) => {
    const response = await fetch(p, {
      method: m,
      headers: b === undefined ? {} : { 'Content-Type': 'application/json' },
      body: b === undefined ? undefined : JSON.stringify(b),
    });
    return { status: response.status, json: await response.json() };
  }, [urlPath, method, body]), `${method} ${urlPath}`);
  assert.ok(reply.status < 300, `${method} ${urlPath} answered ${reply.status}: ${JSON.stringify(reply.json)}`);
  return reply.json;
}

// axe-core in the page (page.evaluate is not subject to the page's CSP): no serious or critical
// violation on the screen as it is.
async function audit(page, screen) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await bounded(page.evaluate(AXE_SOURCE), 'loading axe-core');
  }
  const violations = await bounded(page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  }), `axe-core on ${screen}`, 3 * STEP_MS);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${screen}: accessibility violations`);
}

async function screenshot(page, name) {
  const file = path.join(env.artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  const png = fs.readFileSync(file);
  assert.ok(png.length > 1000, `${name} is ${png.length} bytes`);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name} is a PNG`);
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function heading(page, name) {
  return page.getByRole('heading', { level: 1, name, exact: true });
}

function button(scope, name) {
  return scope.getByRole('button', { name, exact: true });
}

async function isFocused(locator) {
  return locator.evaluate((node) => node === document.activeElement);
}

// Opens the address field_client printed; resolves once Home (or the PIN pad) shows.
async function openApp(kind, app, screen = 'Home') {
  const { context, page } = await newPage(kind);
  await page.goto(app.url);
  await heading(page, screen).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the launch key left the address bar');
  return { context, page, app };
}

async function goHome(page) {
  await button(page, 'Home').click();
  await heading(page, 'Home').waitFor();
}

async function notSentYet(page, n) {
  await page.getByText(`${n} not sent yet`, { exact: true }).waitFor();
}

// The text the page gives a control as its description (hint, then error).
function description(locator) {
  return locator.evaluate((node) => (node.getAttribute('aria-describedby') || '').split(/\s+/)
    .map((id) => document.getElementById(id)?.textContent ?? '').join(' ').replace(/\s+/g, ' '));
}

// --- filling forms ---------------------------------------------------------------------------

async function fillDate(group, { day, month, year, time }) {
  await group.getByLabel('Day', { exact: true }).fill(day);
  await group.getByLabel('Month', { exact: true }).fill(month);
  await group.getByLabel('Year', { exact: true }).fill(year);
  if (time !== undefined) await group.getByLabel('Time', { exact: true }).fill(time);
}

function group(page, name) {
  return page.getByRole('group', { name, exact: true });
}

// Answers one question by its visible label: text as given, numbers 1 (or the minimum), yes/no
// "Yes", choices the first one.
async function answer(page, field, text) {
  switch (field.type) {
    case 'integer':
    case 'number':
      await page.getByLabel(field.label, { exact: true }).fill(String(Math.max(1, field.min ?? 1)));
      return;
    case 'boolean':
      await group(page, field.label).getByRole('radio', { name: 'Yes', exact: true }).check();
      return;
    case 'select_one':
      await group(page, field.label).getByRole('radio', { name: field.choices[0].label, exact: true }).check();
      return;
    case 'select_multiple':
      await group(page, field.label).getByRole('checkbox', { name: field.choices[0].label, exact: true }).check();
      return;
    case 'datetime':
      await fillDate(group(page, field.label), WHEN);
      return;
    default:
      await page.getByLabel(field.label, { exact: true }).fill(text);
  }
}

// Fills a new form's required questions (and the person's details, where it asks for them), and
// the time it happened: 1 June 2023, 22:00.
async function fillForm(page, form, text) {
  await fillDate(group(page, 'When it happened'), WHEN);
  for (const field of form.fields) {
    if (field.format === 'keyed_hash') {
      const person = group(page, PERSON_GROUP);
      await person.getByLabel('Name', { exact: true }).fill(PERSON.name);
      await fillDate(person.getByRole('group', { name: 'Date of birth', exact: true }), PERSON);
      continue;
    }
    if (field.required && !field.relevant) await answer(page, field, text);
  }
}

function firstTextField(form) {
  return form.fields.find((f) => f.type === 'text' && f.format !== 'keyed_hash' && !f.relevant &&
    !f.sensitive);
}

async function startForm(page, form) {
  await button(page, form.label).click();
  await heading(page, form.label).waitFor();
}

// Polls the app until one of its drafts matches; resolves to it.
async function waitForDraft(page, matches) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const { drafts } = await pageApi(page, '/app/api/drafts');
    const found = drafts.find(matches);
    if (found) return found;
    assert.ok(Date.now() < deadline, `no such draft: ${JSON.stringify(drafts)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function recordCount(page) {
  return (await pageApi(page, '/app/api/records')).records.length;
}

// --- setup -----------------------------------------------------------------------------------

before(async () => {
  env.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beatbook-app-'));
  env.keys = path.join(env.dir, 'keys');
  fs.mkdirSync(env.keys, { mode: 0o700 });
  env.artifacts = process.env.BROWSER_ARTIFACTS ||
    fs.mkdtempSync(path.join(os.tmpdir(), 'beatbook-app-artifacts-'));
  fs.mkdirSync(env.artifacts, { recursive: true });

  const tablet = (name, user, role = 'field_worker', org = ORG, pin = undefined) => {
    env.tablets[name] = { dir: path.join(env.dir, name), user, role, org, pin };
  };
  tablet('phone', 'amy');    // logs every form at a phone's size
  tablet('tablet', 'abe');   // and at a tablet's
  tablet('spare', 'dee');    // drafts killed mid-way, edits and deletes, the app's defences
  tablet('lead', 'pip', 'partner_lead', 'police');
  env.shared = { dir: path.join(env.dir, 'shared'), workers: [['sam', '2468'], ['sue', '1357']] };

  const tokens = {};
  for (const t of Object.values(env.tablets)) tokens[t.user] = await token(t.user, t.org, t.role);
  for (const [user] of env.shared.workers) tokens[user] = await token(user, ORG, 'field_worker');

  await startServer('127.0.0.1:0');
  for (const t of Object.values(env.tablets)) {
    await fieldClient(['init', '--data', t.dir, '--server', env.serverUrl, '--token', tokens[t.user]]);
  }
  // A shared tablet: two workers, each with a PIN.
  env.tablets.shared = { dir: env.shared.dir, user: 'sam', role: 'field_worker', org: ORG };
  for (const [user, pin] of env.shared.workers) {
    await fieldClient(['init', '--data', env.shared.dir, '--server', env.serverUrl, '--token',
      tokens[user], '--pin'], { pin });
  }
  // Out of signal from here on, until the sync test starts the server again on the same port.
  await stopServer();

  env.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--lang=en-GB',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 60_000 });

after(async () => {
  await env.browser?.close().catch(() => {});
  await Promise.all([...env.apps].map((child) => stopProcess(child)));
  await stopServer();
  if (env.dir) fs.rmSync(env.dir, { recursive: true, force: true });
  console.log(`screenshots: ${env.artifacts}`);
}, { timeout: 30_000 });

// --- tests -----------------------------------------------------------------------------------

test('the app answers only its own page, by its own name, under a strict CSP', { timeout: 30_000 }, async () => {
  const app = await startApp('spare');
  try {
    const bare = await request(app, '/app/api/state');
    assert.equal(bare.status, 401, 'no cookie, no key');
    assert.equal(bare.json?.error?.code, 'not_signed_in_to_app');
    assert.equal(bare.headers['access-control-allow-origin'], undefined, 'no CORS');

    const keyed = await request(app, '/app/api/state', { headers: { 'X-Beatbook-Key': app.key } });
    assert.equal(keyed.status, 200);
    assert.equal(keyed.json.locked, false, 'a tablet without PINs is open');
    assert.equal(keyed.json.worker.user, 'dee');
    assert.match(keyed.headers['cache-control'] || '', /no-store/);
    const local = await request(app, '/app/api/state',
      { headers: { 'X-Beatbook-Key': app.key, Host: `localhost:${app.port}` } });
    assert.equal(local.status, 200, 'localhost:PORT is this machine too');

    // DNS rebinding: a page elsewhere whose name resolves to 127.0.0.1.
    const rebound = await request(app, '/app/api/state',
      { headers: { 'X-Beatbook-Key': app.key, Host: `evil.example:${app.port}` } });
    assert.equal(rebound.status, 403);
    assert.equal(rebound.json?.error?.code, 'foreign_host');
    const foreignPage = await request(app, '/app/api/state',
      { headers: { 'X-Beatbook-Key': app.key, Origin: 'http://evil.example' } });
    assert.equal(foreignPage.status, 403);
    assert.equal(foreignPage.json?.error?.code, 'foreign_origin');
    const wrongKey = await request(app, '/app/session', { method: 'POST', body: { key: 'not-the-key' } });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.headers['set-cookie'], undefined, 'no session for a wrong key');

    const page = await request(app, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] || '', /^text\/html/);
    const csp = page.headers['content-security-policy'] || '';
    for (const rule of ["default-src 'self'", "script-src 'self'", "style-src 'self'"]) {
      assert.ok(csp.includes(rule), `CSP has ${rule}: ${csp}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/i,
      'no inline script, style or handler');
    for (const [file, type] of [['main.js', /^(text|application)\/javascript/], ['style.css', /^text\/css/]]) {
      const reply = await request(app, `/app/${file}`);
      assert.equal(reply.status, 200, `/app/${file}`);
      assert.match(reply.headers['content-type'] || '', type, `/app/${file} content type`);
    }

    // The page opened without its key says what to do, in words.
    const { context, page: browserPage } = await newPage('phone');
    await browserPage.goto(`${app.origin}/`);
    await heading(browserPage, 'Open the app from its address').waitFor();
    await audit(browserPage, 'no key');
    await screenshot(browserPage, 'app-phone-no-key.png');
    await context.close();
  } finally {
    await stopApp(app);
  }
});

// Logs every form the worker may fill in, at one size, with the server stopped; on the way, a bad
// value is refused at its question, a draft is kept and discarded, and My records lists them all.
async function logEveryForm(kind) {
  const t = env.tablets[kind];
  const app = await startApp(kind);
  const opened = await openApp(kind, app);
  env.pages[kind] = opened;
  const { page } = opened;
  await notSentYet(page, 0);
  await audit(page, `${kind} home`);

  const { forms } = await pageApi(page, '/app/api/forms');
  t.forms = forms;
  // The forms a Street Pastor logs (their writers), and not those they do not.
  assert.deepEqual(forms.map((f) => f.form).sort(), ['outreach_contact', 'patrol', 'satisfaction_survey'],
    `a street pastor has forms: ${forms.map((f) => f.form)}`);
  const patrolType = forms.find((f) => f.form === 'patrol').fields.find((f) => f.name === 'patrol_type');
  assert.ok(!patrolType.choices.some((c) => c.code === 'op_fortress'), 'Op Fortress is the police\'s to record');
  for (const form of forms) await button(page, form.label).waitFor();

  // The theme switch, and the other theme audited too.
  const theme = page.getByRole('button', { name: /^(Dark|Light) theme$/ });
  const other = (await theme.textContent()).trim().startsWith('Dark') ? 'dark' : 'light';
  await theme.click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), other);
  assert.equal(await page.evaluate(() => localStorage.getItem('beatbook.app.theme')), other,
    'the choice is remembered');
  await audit(page, `${kind} home, ${other} theme`);
  await screenshot(page, `app-${kind}-home-${other}.png`);
  await theme.click();

  let logged = 0;
  let refusedOnce = false;
  for (const form of forms) {
    await startForm(page, form);
    const text = `${kind} ${form.form}`;
    await fillForm(page, form, text);

    // A bad value first, where the form has a number: refused at its question, nothing stored.
    const numberField = form.fields.find((f) => ['integer', 'number'].includes(f.type) &&
      f.min !== undefined && !f.relevant);
    if (numberField && !refusedOnce) {
      refusedOnce = true;
      const before = await recordCount(page);
      const input = page.getByLabel(numberField.label, { exact: true });
      let previous = null;  // the message of the refusal before, still on screen until replaced
      for (const bad of [String(numberField.min - 3), 'twelve']) {
        await input.fill(bad);
        await button(page, 'Save').click();
        const summary = page.getByRole('alert').filter({ hasText: 'Nothing was saved' });
        const link = summary.getByRole('link');
        await (previous === null ? link : link.filter({ hasNotText: previous })).waitFor();
        assert.equal(await link.count(), 1, `one error for ${bad}: ${await summary.textContent()}`);
        const message = (await link.textContent()).trim();
        previous = message;
        assert.ok(message.length > 5, `a message for ${bad}`);
        assert.doesNotMatch(message, /invalid|please|sorry/i, 'plain words');
        assert.ok(await page.evaluate(() => document.activeElement?.textContent.includes('Nothing was saved')),
          'the summary takes focus');
        assert.ok((await description(input)).includes(`Error: ${message}`),
          `the same words under ${numberField.label}, after "Error:"`);
        assert.equal(await input.getAttribute('aria-invalid'), 'true');
        assert.equal(await input.inputValue(), bad, 'what was typed is kept');
        await link.click();
        assert.ok(await isFocused(input), 'the summary links to the question');
        assert.equal(await recordCount(page), before, `nothing stored for ${bad}`);
        await screenshot(page, `app-${kind}-error${bad === 'twelve' ? '-text' : ''}.png`);
        await audit(page, `${kind} ${form.form} with an error`);
      }
      await input.fill(String(Math.max(1, numberField.min)));
    }

    if (form.fields.some((f) => f.format === 'keyed_hash')) {
      // The person's name and date of birth never go into the draft.
      const textField = firstTextField(form);
      await page.getByLabel(textField.label, { exact: true }).fill(`${text} kept`);
      const mine = await waitForDraft(page, (d) => d.form === form.form &&
        d.fields?.[textField.name] === `${text} kept`);
      const stored = JSON.stringify(mine);
      for (const secret of [PERSON.name, 'Testperson', '1990']) {
        assert.ok(!stored.includes(secret), `the draft holds no ${secret}`);
      }
      await page.getByLabel(textField.label, { exact: true }).fill(text);
    }

    await screenshot(page, `app-${kind}-form-${form.form}.png`);
    await audit(page, `${kind} ${form.form}`);
    await button(page, 'Save').click();
    await heading(page, 'Home').waitFor();
    await page.getByText(`${form.label} saved on this tablet`).waitFor();
    env.logged.push({ tablet: kind, user: t.user, form: form.form });
    logged += 1;
    await notSentYet(page, logged);
  }
  t.loggedCount = logged;
  assert.equal((await pageApi(page, '/app/api/drafts')).drafts.length, 0, 'saving used the drafts up');
  await screenshot(page, `app-${kind}-home.png`);

  // A draft: kept when leaving the form, listed, discarded after a question naming the action.
  const form = forms.find((f) => firstTextField(f));
  await startForm(page, form);
  await page.getByLabel(firstTextField(form).label, { exact: true }).fill(`${kind} unfinished`);
  await page.getByText(/Kept as a draft on this tablet at/).waitFor();
  await goHome(page);
  await page.getByText('Your answers are kept as a draft on this tablet.').waitFor();
  await notSentYet(page, logged);  // a draft is never counted
  await page.getByRole('button', { name: /^Drafts: 1$/ }).click();
  await heading(page, 'Drafts').waitFor();
  const item = page.getByRole('listitem').filter({ hasText: `${kind} unfinished` });
  await item.waitFor();
  await audit(page, `${kind} drafts`);
  await screenshot(page, `app-${kind}-drafts.png`);
  await button(item, 'Discard').click();
  const dialog = page.getByRole('dialog', { name: 'Discard this draft?' });
  await dialog.waitFor();
  await audit(page, `${kind} discard question`);
  await screenshot(page, `app-${kind}-drafts-discard.png`);
  await button(dialog, 'Discard draft').click();
  await page.getByText('No drafts: nothing unfinished.').waitFor();
  assert.equal((await pageApi(page, '/app/api/drafts')).drafts.length, 0);

  // My records: every record, not sent yet, filtered by form.
  await goHome(page);
  await button(page, 'My records').click();
  await heading(page, 'My records').waitFor();
  await page.getByText(`${logged} records`, { exact: true }).waitFor();
  assert.equal(await page.getByRole('listitem').filter({ hasText: 'Not sent yet' }).count(), logged);
  await audit(page, `${kind} my records`);
  await screenshot(page, `app-${kind}-records.png`);
  await group(page, 'Form').getByRole('radio', { name: forms[0].label, exact: true }).check();
  await page.getByText('1 record', { exact: true }).waitFor();
  const first = page.getByRole('listitem').first();
  assert.match(await first.textContent(), new RegExp(escapeRegExp(forms[0].label)));
  await button(first, 'Open').click();
  await heading(page, forms[0].label).waitFor();
  await page.getByText('Not sent yet', { exact: true }).filter({ visible: true }).waitFor();
  await audit(page, `${kind} one record`);
  await screenshot(page, `app-${kind}-record.png`);

  // Out of signal: Sync says so in plain words, and nothing is lost.
  await goHome(page);
  await button(page, 'Sync').click();
  const outcome = page.getByRole('status').filter({ hasText: /signal/i });
  await outcome.waitFor();
  assert.doesNotMatch(await outcome.textContent(), /Sent \d/);
  await notSentYet(page, logged);
  await audit(page, `${kind} no signal`);
  await screenshot(page, `app-${kind}-sync-no-signal.png`);
}

test('phone (360x740): a street pastor logs every form offline', { timeout: 240_000 }, async () => {
  await logEveryForm('phone');
});

test('tablet (800x1280): a street pastor logs every form offline', { timeout: 240_000 }, async () => {
  await logEveryForm('tablet');
});

test('a draft survives the app being killed and is finished after a restart; records are changed and deleted', { timeout: 120_000 }, async () => {
  let app = await startApp('spare');
  const { context, page } = await openApp('tablet', app);
  const { forms } = await pageApi(page, '/app/api/forms');
  const form = forms.find((f) => firstTextField(f));
  const textField = firstTextField(form);
  await startForm(page, form);
  await fillForm(page, form, 'Kill Lane');
  await page.getByLabel(textField.label, { exact: true }).fill('Kill Lane');
  // The draft on the tablet holds the last answer before the app is killed.
  // ... every required answer included (the draft is saved as the worker goes).
  const required = form.fields.filter((f) => f.required && !f.relevant && f.format !== 'keyed_hash');
  await waitForDraft(page, (d) => d.form === form.form && d.fields?.[textField.name] === 'Kill Lane' &&
    required.every((f) => d.fields?.[f.name] !== undefined));
  await stopApp(app, 'SIGKILL');

  app = await startApp('spare');  // a new address and a new key
  await page.goto(app.url);
  await heading(page, 'Home').waitFor();
  await page.getByRole('button', { name: /^Drafts: 1$/ }).waitFor();
  await button(page, form.label).click();  // the question comes first
  const prompt = page.getByRole('dialog', { name: 'Continue your draft?' });
  await prompt.waitFor();
  assert.match(await prompt.textContent(), new RegExp(`unfinished ${escapeRegExp(form.label)}`, 'i'));
  await audit(page, 'continue or discard');
  await screenshot(page, 'app-tablet-draft-prompt.png');
  await button(prompt, 'Continue').click();
  await heading(page, form.label).waitFor();
  assert.equal(await page.getByLabel(textField.label, { exact: true }).inputValue(), 'Kill Lane');
  const when = group(page, 'When it happened');
  assert.equal(await when.getByLabel('Year', { exact: true }).inputValue(), WHEN.year);
  assert.equal(await when.getByLabel('Time', { exact: true }).inputValue(), WHEN.time);
  const person = form.fields.some((f) => f.format === 'keyed_hash');
  if (person) assert.equal(await group(page, PERSON_GROUP).getByLabel('Name', { exact: true }).inputValue(), '');
  await button(page, 'Save').click();
  await heading(page, 'Home').waitFor();
  await notSentYet(page, 1);
  await page.getByRole('button', { name: /^Drafts: 0$/ }).waitFor();
  const { records } = await pageApi(page, '/app/api/records');
  assert.equal(records.length, 1);
  assert.equal(records[0].fields[textField.name], 'Kill Lane');
  assert.equal(Date.parse(records[0].occurred_at), Date.parse(WHEN.iso));
  assert.equal(records[0].state, 'not_sent');

  // Changed (PUT) from My records...
  await button(page, 'My records').click();
  await button(page.getByRole('listitem').first(), 'Open').click();
  await heading(page, form.label).waitFor();
  await button(page, 'Edit').click();
  await heading(page, `Change: ${form.label}`).waitFor();
  await page.getByLabel(textField.label, { exact: true }).fill('Kill Lane North');
  await button(page, 'Save changes').click();
  await heading(page, form.label).waitFor();
  await page.getByText('Kill Lane North').waitFor();
  assert.equal((await pageApi(page, `/app/api/records/${records[0].id}`)).fields[textField.name], 'Kill Lane North');

  // ...and deleted, after a question naming the action.
  await button(page, 'Delete').click();
  const dialog = page.getByRole('dialog', { name: 'Delete this record?' });
  await dialog.waitFor();
  await button(dialog, 'Keep record').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await recordCount(page), 1, 'Keep record keeps it');
  await button(page, 'Delete').click();
  await button(dialog, 'Delete record').click();
  await heading(page, 'My records').waitFor();
  await page.getByText('0 records', { exact: true }).waitFor();
  await context.close();
  await stopApp(app);
});

test('a shared tablet: the PIN pad, a wrong PIN refused with its message, two workers in turn', { timeout: 90_000 }, async () => {
  const app = await startApp('shared');
  try {
    const locked = await request(app, '/app/api/forms', { headers: { 'X-Beatbook-Key': app.key } });
    assert.equal(locked.status, 401, 'nothing opens before a PIN');
    assert.equal(locked.json?.error?.code, 'locked');

    const phone = await openApp('phone', app, 'Sign in');
    await audit(phone.page, 'phone PIN pad');
    await screenshot(phone.page, 'app-phone-pin.png');
    await phone.context.close();

    const { context, page } = await openApp('tablet', app, 'Sign in');
    await audit(page, 'tablet PIN pad');
    await screenshot(page, 'app-tablet-pin.png');
    const pressPin = async (pin) => {
      for (const digit of pin) await button(page, digit).click();
      assert.equal((await page.getByLabel('PIN', { exact: true }).inputValue()).length, pin.length);
      await button(page, 'Sign in').click();
    };

    await pressPin('9999');
    const refusal = page.getByRole('alert').filter({ hasText: /\S/ });
    await refusal.waitFor();
    const message = (await refusal.textContent()).trim();
    assert.ok(message.length > 5, `the app's message is shown: ${message}`);
    assert.ok(await heading(page, 'Sign in').isVisible(), 'still locked');
    assert.equal(await page.getByLabel('PIN', { exact: true }).inputValue(), '', 'the PIN is cleared');
    await audit(page, 'wrong PIN');
    await screenshot(page, 'app-tablet-pin-wrong.png');

    for (const [user, pin] of env.shared.workers) {
      await pressPin(pin);
      await heading(page, 'Home').waitFor();
      await page.getByText(new RegExp(`Signed in as ${escapeRegExp(user)}\\b`)).waitFor();
      assert.equal((await pageApi(page, '/app/api/state')).worker.user, user);
      if (user === 'sam') {
        await audit(page, 'shared tablet home');
        await screenshot(page, 'app-tablet-home-shared.png');
      }
      await button(page, 'Sign out').click();
      await heading(page, 'Sign in').waitFor();
      const state = await request(app, '/app/api/state', { headers: { 'X-Beatbook-Key': app.key } });
      assert.equal(state.json.locked, true, `${user} signed out`);
    }
    await context.close();
  } finally {
    await stopApp(app);
  }
});

test("a partner lead's returns grid: figures and milestones entered in place", { timeout: 120_000 }, async () => {
  const app = await startApp('lead');
  env.pages.lead = await openApp('tablet', app);
  const { page } = env.pages.lead;
  const returns = await pageApi(page, `/app/api/returns?fy=${FY}`);
  const figure = returns.indicators.find((i) => i.kind === 'return');
  const milestone = returns.indicators.find((i) => i.kind === 'milestone');
  assert.ok(figure && milestone, 'the grid has figures and milestones');
  const quarterIndex = returns.quarters.indexOf(QUARTER);
  env.returnFigure = { id: figure.id, value: 5 };

  // From the current financial year back to FY, a year at a time.
  const toYear = async (p) => {
    await button(p, 'Returns').click();
    await heading(p, 'Returns').waitFor();
    const shown = await p.getByText(/^Financial year \d{4}\//).textContent();
    const start = Number(/(\d{4})\//.exec(shown)[1]);
    assert.ok(start >= FY && start - FY < 50, `the grid opens on this year: ${shown}`);
    for (let year = start - 1; year >= FY; --year) {
      await p.getByRole('button', { name: /^Previous year/ }).click();
      await p.getByText(`Financial year ${year}/${String((year + 1) % 100).padStart(2, '0')}`,
        { exact: true }).waitFor();
    }
    await p.getByRole('table', { name: `Returns for ${FY}/24, by quarter` }).waitFor();
  };
  const cell = (p, indicator) => p.getByRole('row')
    .filter({ has: p.getByRole('rowheader').filter({ hasText: indicator.label }) })
    .getByRole('button').nth(quarterIndex);

  await toYear(page);
  // A figure: a bad value refused at the field and in the summary above, then entered.
  await cell(page, figure).click();
  const value = page.getByLabel('Value', { exact: true });
  await value.fill('-1');
  await button(page, 'Save').click();
  const summary = page.getByRole('alert').filter({ hasText: 'Nothing was saved' });
  await summary.waitFor();
  assert.ok((await description(value)).includes('Error:'), 'the message under the value');
  await audit(page, 'returns with an error');
  await screenshot(page, 'app-tablet-returns-error.png');
  await value.fill('5');
  await button(page, 'Save').click();
  await summary.waitFor({ state: 'hidden' });
  await cell(page, figure).filter({ hasText: '5' }).waitFor();
  assert.match(await cell(page, figure).textContent(), /Not sent yet/);
  // A milestone: its status as radios.
  await cell(page, milestone).click();
  await group(page, 'Status').getByRole('radio', { name: returns.statuses[0].label, exact: true }).check();
  await button(page, 'Save').click();
  await cell(page, milestone).filter({ hasText: returns.statuses[0].label }).waitFor();
  const after = await pageApi(page, `/app/api/returns?fy=${FY}`);
  assert.equal(after.cells[figure.id][QUARTER].value, 5);
  assert.equal(after.cells[milestone.id][QUARTER].status, returns.statuses[0].code);
  await audit(page, 'returns grid');
  await screenshot(page, 'app-tablet-returns.png');

  // Correcting a figure updates the same record.
  await cell(page, figure).click();
  await value.fill('6');
  await button(page, 'Save').click();
  await cell(page, figure).filter({ hasText: '6' }).waitFor();
  const corrected = await pageApi(page, `/app/api/returns?fy=${FY}`);
  assert.equal(corrected.cells[figure.id][QUARTER].record_id, after.cells[figure.id][QUARTER].record_id);
  env.returnFigure.value = 6;

  // Only the indicators the police own; the quarters not entered are owed, with their due date.
  const owned = new Set(JSON.parse(fs.readFileSync(new URL('../../schema/indicators.json', import.meta.url)))
    .indicators.filter((i) => (i.owners || []).includes('police')).map((i) => i.id));
  assert.deepEqual(new Set(corrected.indicators.map((i) => i.id)), owned);
  const other = corrected.indicators.find((i) => i.kind === 'return' && i.id !== figure.id);
  assert.equal(corrected.owed[other.id][QUARTER].state, 'owed');
  assert.match(await cell(page, other).textContent(), /Owed: due 20 Jul 2023/);

  // An absurd figure: the tablet says why it looks unusual and asks for a tick before saving it.
  await cell(page, other).click();
  await value.fill('99999999');
  await button(page, 'Save').click();
  const tick = page.getByRole('checkbox', { name: 'I have checked this figure and it is right' });
  await tick.waitFor();
  assert.match(await description(value), /looks unusual/);
  await audit(page, 'returns: an unusual figure');
  await screenshot(page, 'app-tablet-returns-unusual.png');
  assert.equal((await pageApi(page, `/app/api/returns?fy=${FY}`)).cells[other.id]?.[QUARTER], undefined,
    'nothing saved before the tick');
  await tick.check();
  await button(page, 'Save').click();
  await cell(page, other).filter({ hasText: '99999999' }).waitFor();
  await goHome(page);

  const phone = await openApp('phone', app);
  await toYear(phone.page);
  await cell(phone.page, figure).filter({ hasText: '6' }).waitFor();
  // The long figure wraps inside its cell rather than spilling over the next one.
  const spill = await cell(phone.page, other).evaluate((td) => td.scrollWidth - td.clientWidth);
  assert.ok(spill <= 0, `the cell holding 99999999 is ${spill}px wider than itself on a phone`);
  await audit(phone.page, 'phone returns grid');
  await screenshot(phone.page, 'app-phone-returns.png');
  await cell(phone.page, milestone).click();
  await group(phone.page, 'Status').waitFor();
  await screenshot(phone.page, 'app-phone-returns-editor.png');
  await button(phone.page, 'Close without saving').click();
  await phone.context.close();
});

test('back in signal: Sync sends everything, and the records reach the return', { timeout: 120_000 }, async () => {
  await startServer(env.serverListen);  // the same port the tablets enrolled with
  for (const kind of ['phone', 'tablet']) {
    const { page } = env.pages[kind];
    await heading(page, 'Home').waitFor();
    await button(page, 'Sync').click();
    const outcome = page.getByRole('status').filter({ hasText: /Sent \d+, received \d+/ });
    await outcome.waitFor({ timeout: 3 * STEP_MS });
    const [, sent] = /Sent (\d+), received (\d+)/.exec(await outcome.textContent());
    assert.equal(Number(sent), env.tablets[kind].loggedCount, `${kind}: sent what it logged`);
    await notSentYet(page, 0);
    assert.equal(await page.getByText(/Last try did not work/).count(), 0, 'the failure is over');
    await page.getByText(/^Last sent: /).waitFor();
    await audit(page, `${kind} synced`);
    await screenshot(page, `app-${kind}-sync-result.png`);
    await button(page, 'My records').click();
    await page.getByText(`${env.tablets[kind].loggedCount} records`, { exact: true }).waitFor();
    await page.getByRole('listitem').filter({ hasText: 'Sent' }).first().waitFor();
    assert.equal(await page.getByRole('listitem').filter({ hasText: 'Not sent yet' }).count(), 0);
    await goHome(page);
  }
  const lead = env.pages.lead.page;
  await button(lead, 'Sync').click();
  await lead.getByRole('status').filter({ hasText: /Sent \d+, received \d+/ }).waitFor({ timeout: 3 * STEP_MS });

  await stopServer();  // its store is read below

  // Every record this file saved through the page is on the server, by form and author...
  const central = path.join(env.dir, 'central');
  const forms = env.tablets.phone.forms;
  for (const form of forms) {
    const exported = JSON.parse(await syncServer('export', '--data', central, '--form', form.form,
      '--org', ORG, '--fy', String(FY), '--format', 'json'));
    const author = exported.columns.indexOf('author');
    const occurred = exported.columns.indexOf('occurred_at');
    for (const kind of ['phone', 'tablet']) {
      const user = env.tablets[kind].user;
      const want = env.logged.filter((r) => r.user === user && r.form === form.form).length;
      const rows = exported.rows.filter((row) => row[author] === user);
      assert.equal(rows.length, want, `${form.form} by ${user} on the server`);
      for (const row of rows) assert.equal(Date.parse(row[occurred]), Date.parse(WHEN.iso));
    }
  }
  // ...and in the coordinator's return: every plain count of a form, and the lead's figure.
  const report = JSON.parse(await syncServer('report', '--data', central, '--fy', String(FY),
    '--format', 'json'));
  const catalogue = JSON.parse(fs.readFileSync(new URL('../../schema/indicators.json', import.meta.url)));
  let checked = 0;
  for (const ind of catalogue.indicators) {
    const def = ind.definition || {};
    const plain = ind.kind === 'count' && !def.where && !def.where_any &&
      (!def.org || def.org.includes(ORG)) && forms.some((f) => f.form === def.form);
    if (!plain) continue;
    const row = report.indicators.find((r) => r.id === ind.id);
    const want = env.logged.filter((r) => r.form === def.form).length;
    assert.equal(row?.values?.[QUARTER], want, `${ind.id} ${QUARTER} counts what the workers logged`);
    checked += 1;
  }
  assert.ok(checked >= 2, `plain counts checked: ${checked}`);
  const figure = report.indicators.find((r) => r.id === env.returnFigure.id);
  assert.equal(figure?.values?.[QUARTER], env.returnFigure.value, "the partner lead's figure");
});

test('a record the server refuses shows as Needs fixing with the reason, and Fix sends it again', { timeout: 120_000 }, async () => {
  // The partnership tightens a rule on the server (at most 20 people engaged on a patrol) after
  // a worker logged 50 offline: the server refuses the record, with its reason.
  const strict = path.join(env.dir, 'strict-schema');
  fs.cpSync(new URL('../../schema', import.meta.url), strict, { recursive: true });
  // The latest version of the patrol form, which new records use.
  const patrolFile = path.join(strict, 'forms', fs.readdirSync(path.join(strict, 'forms'))
    .filter((f) => f.startsWith('patrol.v')).sort().at(-1));
  const patrol = JSON.parse(fs.readFileSync(patrolFile, 'utf8'));
  patrol.fields.find((f) => f.name === 'engagements').max = 20;
  fs.writeFileSync(patrolFile, JSON.stringify(patrol));

  const { page } = env.pages.phone;
  await goHome(page).catch(() => {});
  await heading(page, 'Home').waitFor();
  const form = env.tablets.phone.forms.find((f) => f.form === 'patrol');
  await startForm(page, form);
  await fillForm(page, form, 'Big crowd');
  await page.getByLabel('Engagements', { exact: true }).fill('50');
  await button(page, 'Save').click();
  await heading(page, 'Home').waitFor();
  await notSentYet(page, 1);

  const args = ['serve', '--data', path.join(env.dir, 'central'), '--listen', env.serverListen,
    '--schema', strict];
  const { child } = await startProcess(SYNC_SERVER, args, /listening on (\S+)/);
  env.server = child;
  try {
    await button(page, 'Sync').click();
    await page.getByRole('status').filter({ hasText: /Sent \d+, received \d+/ })
      .waitFor({ timeout: 3 * STEP_MS });
    const fixing = page.getByRole('heading', { name: 'Needs fixing: 1', exact: true });
    await fixing.waitFor();
    // The reason names the question as the worker sees it (its label), not its code.
    await page.getByText(/Engagements: value 50 is above the maximum 20/).first().waitFor();
    await audit(page, 'home with a record that needs fixing');
    await screenshot(page, 'app-phone-needs-fixing.png');

    // Fix: the record opens with its answers; the worker corrects it and sends it again.
    await button(page, 'Fix').click();
    const attendees = page.getByLabel('Engagements', { exact: true });
    await attendees.waitFor();
    assert.equal(await attendees.inputValue(), '50');
    await attendees.fill('15');
    await button(page, 'Save changes').click();
    await page.getByText(/Sent \d+, received \d+|not sent yet/).first().waitFor();
    await goHome(page).catch(() => {});
    await heading(page, 'Home').waitFor();
    await button(page, 'Sync').click();
    await page.getByRole('status').filter({ hasText: /Sent 1, received \d+/ })
      .waitFor({ timeout: 3 * STEP_MS });
    await notSentYet(page, 0);
    await page.getByRole('heading', { name: /^Needs fixing/ }).waitFor({ state: 'detached' });
    const { records } = await pageApi(page, '/app/api/records?form=patrol');
    const fixed = records.find((r) => r.fields.engagements === 15);
    assert.equal(fixed?.state, 'sent', 'the fixed record is sent');
  } finally {
    await stopServer();
  }
  // The server holds the corrected figure.
  const exported = JSON.parse(await syncServer('export', '--data', path.join(env.dir, 'central'),
    '--form', 'patrol', '--format', 'json'));
  const col = exported.columns.indexOf('engagements');
  assert.ok(exported.rows.some((row) => row[col] === 15));
  assert.ok(!exported.rows.some((row) => row[col] === 50));
});

test('after the office restores its server from a backup, Sync says so and loses nothing', { timeout: 120_000 }, async () => {
  // The server is stopped (the test above). The office restores yesterday's backup: here one
  // taken just now, so the count on the server must come out the same, not doubled.
  const central = path.join(env.dir, 'central');
  const key = path.join(env.dir, 'backup.key');
  const backup = path.join(env.dir, 'restore-me.bbk');
  await syncServer('backup-key', '--out', key);
  await syncServer('backup', '--data', central, '--key', key, '--out', backup);
  const count = async () => JSON.parse(await syncServer('export', '--data', central, '--form',
    'patrol', '--format', 'json')).rows.length;
  const before = await count();
  await syncServer('restore', '--data', central, '--key', key, '--from', backup);
  await startServer(env.serverListen);
  const { page } = env.pages.phone;
  try {
    await goHome(page).catch(() => {});
    await heading(page, 'Home').waitFor();
    await button(page, 'Sync').click();
    const outcome = page.getByRole('status').filter({ hasText: /restored its records from a backup/ });
    await outcome.waitFor({ timeout: 3 * STEP_MS });
    assert.match(await outcome.textContent(), /sent everything it holds again/);
    await notSentYet(page, 0);
    await audit(page, 'phone synced with a restored server');
    await screenshot(page, 'app-phone-server-restored.png');
  } finally {
    await stopServer();
  }
  assert.equal(await count(), before, 'every record once on the server');
});

// --- languages -------------------------------------------------------------------------------

// The test language (tests/support/pseudo_language.h does the same for the C++ tests): the
// English, vowels accented and bracketed, so the test can tell which language it reads.
const PSEUDO = 'en-XA';
function pseudo(text) {
  const accents = { a: 'á', e: 'é', i: 'í', o: 'ó', u: 'ú', P: 'Ƥ' };
  return `[${[...text].map((c) => accents[c] ?? c).join('')}]`;
}

// schema/ copied to `to` with the test language declared and every text given in it, except
// the forms in `englishOnly`.
function writePseudoSchema(to, englishOnly) {
  const from = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../schema');
  fs.cpSync(from, to, { recursive: true });
  const translate = (o) => {
    for (const key of ['label', 'help']) if (o[key]) o[`${key}::${PSEUDO}`] = pseudo(o[key]);
  };
  const choicesFile = path.join(to, 'choices.json');
  const choices = JSON.parse(fs.readFileSync(choicesFile, 'utf8'));
  choices.languages.push({ code: PSEUDO, name: 'Pseudo (test)', yes: pseudo('Yes'), no: pseudo('No') });
  for (const list of Object.values(choices.lists)) list.forEach(translate);
  fs.writeFileSync(choicesFile, JSON.stringify(choices));
  for (const file of fs.readdirSync(path.join(to, 'forms'))) {
    const formFile = path.join(to, 'forms', file);
    const form = JSON.parse(fs.readFileSync(formFile, 'utf8'));
    if (englishOnly.includes(form.form)) continue;
    translate(form);
    form.fields.forEach(translate);
    fs.writeFileSync(formFile, JSON.stringify(form));
  }
}

test('a form in another language: switched on the form with every answer kept, remembered, saved as codes', { timeout: 120_000 }, async () => {
  const schema = path.join(env.dir, 'pseudo-schema');
  writePseudoSchema(schema, ['patrol']);
  env.tablets.words = { dir: path.join(env.dir, 'words'), user: 'wyn', role: 'field_worker', org: ORG };
  await fieldClient(['init', '--data', env.tablets.words.dir, '--user', 'wyn', '--org', ORG,
    '--role', 'field_worker', '--schema', schema]);
  let app = await startApp('words');
  const { context, page } = await openApp('phone', app);

  // In English first: the form says which languages it has, English chosen.
  await button(page, 'Outreach contact').click();
  await heading(page, 'Outreach contact').waitFor();
  const picker = group(page, 'Language');
  assert.equal(await button(picker, 'English').getAttribute('aria-pressed'), 'true');
  await fillDate(group(page, 'When it happened'), WHEN);
  await page.getByLabel('Place', { exact: true }).fill('Jewry Street');
  await group(page, 'Age band').getByRole('radio', { name: '18-24', exact: true }).check();
  await group(page, PERSON_GROUP).getByLabel('Name', { exact: true }).fill(PERSON.name);

  // Switched part-way: the questions are in the other language, with every answer still given.
  await button(picker, 'Pseudo (test)').click();
  await heading(page, pseudo('Outreach contact')).waitFor();
  assert.equal(await page.getByLabel(pseudo('Place'), { exact: true }).inputValue(), 'Jewry Street');
  assert.equal(await group(page, pseudo('Age band')).getByRole('radio', { name: pseudo('18-24'), exact: true }).isChecked(), true);
  assert.equal(await group(page, PERSON_GROUP).getByLabel('Name', { exact: true }).inputValue(), PERSON.name);
  assert.equal(await group(page, 'When it happened').getByLabel('Year', { exact: true }).inputValue(), WHEN.year);
  const switched = button(group(page, 'Language'), 'Pseudo (test)');
  assert.equal(await switched.getAttribute('aria-pressed'), 'true');
  assert.equal(await isFocused(switched), true, 'focus stays on the language picked');
  // The form's words are marked as in its language for screen readers; the app's are not.
  assert.equal(await page.locator('label[for="f-place"]').getAttribute('lang'), PSEUDO);
  assert.equal(await page.locator('#q-place .req').getAttribute('lang'), null);
  await group(page, pseudo('Safeguarding concern')).getByRole('radio', { name: pseudo('No'), exact: true }).check();
  // A stand-alone tablet has no partnership key to make a person key with: anonymous, then.
  await group(page, PERSON_GROUP).getByLabel('Name', { exact: true }).fill('');
  await audit(page, 'form in the test language');
  await screenshot(page, 'app-phone-form-language.png');
  const wide = await newPage('tablet');
  await wide.page.goto(app.url);  // a second page: the same app, the remembered language
  await heading(wide.page, 'Home').waitFor();
  await button(wide.page, pseudo('Outreach contact')).click();
  // The answers so far are a draft on the tablet: this page offers to continue it.
  await button(wide.page.getByRole('dialog', { name: 'Continue your draft?' }), 'Continue').click();
  await heading(wide.page, pseudo('Outreach contact')).waitFor();
  assert.equal(await wide.page.getByLabel(pseudo('Place'), { exact: true }).inputValue(), 'Jewry Street');
  await screenshot(wide.page, 'app-tablet-form-language.png');
  await wide.context.close();

  await button(page, 'Save').click();
  await heading(page, 'Home').waitFor();
  const { records } = await pageApi(page, '/app/api/records');
  assert.equal(records.length, 1);
  // Codes, not labels: counted the same whatever language it was entered in.
  assert.equal(records[0].fields.age_band, '18_24');
  assert.equal(records[0].fields.safeguarding_concern, false);
  assert.equal(records[0].fields.place, 'Jewry Street');
  await context.close();
  await stopApp(app);

  // Remembered by the worker's store across a restart; a form not written in it stays English.
  app = await startApp('words');
  const again = await openApp('phone', app);
  await button(again.page, pseudo('Outreach contact')).waitFor();
  await button(again.page, 'Patrol or operation').click();
  await heading(again.page, 'Patrol or operation').waitFor();
  assert.equal(await group(again.page, 'Language').count(), 0);
  await goHome(again.page);
  await again.context.close();
  await stopApp(app);
});

// --- places ----------------------------------------------------------------------------------

// schema/ with a street brief version that also asks where exactly (a geopoint).
function writePlaceSchema(to) {
  const from = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../schema');
  fs.cpSync(from, to, { recursive: true });
  const v1 = JSON.parse(fs.readFileSync(path.join(to, 'forms/street_brief.v1.json'), 'utf8'));
  v1.version = 2;
  v1.fields.splice(1, 0, { name: 'location', type: 'geopoint', required: false,
    label: 'Where exactly', help: 'Stand where the brief was held and use your location.' });
  fs.writeFileSync(path.join(to, 'forms/street_brief.v2.json'), JSON.stringify(v1));
}

const WINCHESTER = { latitude: 51.0632143, longitude: -1.3133451, accuracy: 12.4 };

test('a place from the tablet\'s location, said with its accuracy, or typed when there is none', { timeout: 120_000 }, async () => {
  const schema = path.join(env.dir, 'place-schema');
  writePlaceSchema(schema);
  env.tablets.place = { dir: path.join(env.dir, 'place'), user: 'pat', role: 'field_worker', org: 'police' };
  await fieldClient(['init', '--data', env.tablets.place.dir, '--user', 'pat', '--org', 'police',
    '--role', 'field_worker', '--schema', schema]);
  const app = await startApp('place');

  // Location allowed: one tap fills the place, and says how accurately.
  const { context, page } = await openApp('phone', app);
  await context.grantPermissions(['geolocation'], { origin: app.origin });
  await context.setGeolocation(WINCHESTER);
  await button(page, 'Street brief').click();
  await heading(page, 'Street brief').waitFor();
  await fillDate(group(page, 'When it happened'), WHEN);
  // The place question offers the partnership's named places as the worker types.
  const placeBox = page.getByLabel('Place', { exact: true });
  const offered = await page.locator(`#${await placeBox.getAttribute('list')} option`)
    .evaluateAll((options) => options.map((o) => o.value));
  assert.ok(offered.includes('Jewry Street') && offered.includes('Winchester Bus Station'),
    `places offered: ${offered}`);
  assert.match(await description(placeBox), /pick one of the partnership's places, or type any other/);
  await placeBox.fill('Jewry Street');
  await page.getByLabel('Attendees', { exact: true }).fill('7');
  const where = group(page, 'Where exactly');
  await button(where, 'Use my location').click();
  await where.getByText('Found: within 12 m', { exact: false }).waitFor();
  assert.equal(await where.getByLabel('Latitude', { exact: true }).inputValue(), '51.063214');
  assert.equal(await where.getByLabel('Longitude', { exact: true }).inputValue(), '-1.313345');
  await audit(page, 'place found');
  await screenshot(page, 'app-phone-place-found.png');
  await button(page, 'Save').click();
  await heading(page, 'Home').waitFor();
  let { records } = await pageApi(page, '/app/api/records');
  assert.equal(records[0].fields.location, '51.063214 -1.313345 12.4');

  // Location refused: the reason next to the question, and the place typed instead; a wrong
  // figure is answered in words before anything is sent.
  const denied = await newPage('tablet');
  await denied.page.goto(app.url);
  await heading(denied.page, 'Home').waitFor();
  await button(denied.page, 'Street brief').click();
  await heading(denied.page, 'Street brief').waitFor();
  await fillDate(group(denied.page, 'When it happened'), WHEN);
  await denied.page.getByLabel('Place', { exact: true }).fill('The Broadway');
  await denied.page.getByLabel('Attendees', { exact: true }).fill('3');
  const typed = group(denied.page, 'Where exactly');
  await button(typed, 'Use my location').click();
  await typed.getByText('Location is turned off for this app', { exact: false }).waitFor();
  await typed.getByLabel('Latitude', { exact: true }).fill('95');
  await typed.getByLabel('Longitude', { exact: true }).fill('-1.3105');
  await button(denied.page, 'Save').click();
  await typed.getByText('Latitude must be between -90 and 90', { exact: false }).waitFor();
  await screenshot(denied.page, 'app-tablet-place-typed.png');
  await typed.getByLabel('Latitude', { exact: true }).fill('51.0612');
  await button(denied.page, 'Save').click();
  await heading(denied.page, 'Home').waitFor();
  ({ records } = await pageApi(denied.page, '/app/api/records'));
  const broadway = records.find((r) => r.fields.place === 'The Broadway');
  assert.equal(broadway.fields.location, '51.0612 -1.3105', 'typed: no accuracy');

  // The record shows the place as a worker reads it.
  await button(denied.page, 'My records').click();
  await button(denied.page.getByRole('listitem').filter({ hasText: 'Jewry Street' }), 'Open').click();
  await denied.page.getByText('51.063214, -1.313345 (within 12 m)').waitFor();
  await denied.context.close();
  await context.close();
  await stopApp(app);
});

// --- photos ----------------------------------------------------------------------------------

// A 32 by 24 pixel PNG, as a camera's file would come to the page.
const PHOTO_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAFiUlEQVR42g3NkfODUADA8bCLBsGoCx920SAYdeHDXTQIoi58+L1oEIy68GEXDYJRN3zYRUEQdcNh+Pt9/oGPZVnYFieLs4VvISwCi4vF1SKxkBY3i7tFblFaKAssHhZPi9ZCW3QWL4u3xcfCWEwWi8Vm8bX4WRwWluVgO5wczg6+g3AIHC4OV4fEQTrcHO4OuUPpoBxweDg8HVoH7dA5vBzeDh8H4zA5LA6bw9fh53A4/4GL7XJyObv4LsIlcLm4XF0SF+lyc7m75C6li3LB5eHydGldtEvn8nJ5u3xcjMvksrhsLl+Xn8vh/gcetsfJ4+zhewiPwOPicfVIPKTHzePukXuUHsoDj4fH06P10B6dx8vj7fHxMB6Tx+KxeXw9fh6H9x8IbMFJcBb4AiEIBBfBVZAIpOAmuAtyQSlQAgQPwVPQCrSgE7wEb8FHYASTYBFsgq/gJzjEfxBih5xCziF+iAgJQi4h15AkRIbcQu4heUgZokIIeYQ8Q9oQHdKFvELeIZ8QEzKFLCFbyDfkF3KE/0GEHXGKOEf4ESIiiLhEXCOSCBlxi7hH5BFlhIog4hHxjGgjdEQX8Yp4R3wiTMQUsURsEd+IX8QR/Qcxdswp5hzjx4iYIOYSc41JYmTMLeYek8eUMSqGmEfMM6aN0TFdzCvmHfOJMTFTzBKzxXxjfjFH/B9IbMlJcpb4EiEJJBfJVZJIpOQmuUtySSlREiQPyVPSSrSkk7wkb8lHYiSTZJFskq/kJznkf5Bip5xSzil+ikgJUi4p15QkRabcUu4peUqZolJIeaQ8U9oUndKlvFLeKZ8UkzKlLClbyjfll3Kk/0GGnXHKOGf4GSIjyLhkXDOSDJlxy7hn5Bllhsog45HxzGgzdEaX8cp4Z3wyTMaUsWRsGd+MX8aR/QcFdsGp4FzgF4iCoOBScC1ICmTBreBekBeUBaqAgkfBs6At0AVdwavgXfApMAVTwVKwFXwLfgVH8R8obMVJcVb4CqEIFBfFVZEopOKmuCtyRalQChQPxVPRKrSiU7wUb8VHYRSTYlFsiq/ipzjUf1BhV5wqzhV+hagIKi4V14qkQlbcKu4VeUVZoSqoeFQ8K9oKXdFVvCreFZ8KUzFVLBVbxbfiV3FU/0GNXXOqOdf4NaImqLnUXGuSGllzq7nX5DVljaqh5lHzrGlrdE1X86p513xqTM1Us9RsNd+aX81R/wcNdsOp4dzgN4iGoOHScG1IGmTDreHekDeUDaqBhkfDs6Ft0A1dw6vh3fBpMA1Tw9KwNXwbfg1H8x9obM1Jc9b4GqEJNBfNVZNopOamuWtyTalRGjQPzVPTarSm07w0b81HYzSTZtFsmq/mpzn0f9Bj95x6zj1+j+gJei49156kR/bceu49eU/Zo3roefQ8e9oe3dP1vHrePZ8e0zP1LD1bz7fn13P0/8GAPXAaOA/4A2IgGLgMXAeSATlwG7gP5APlgBpg4DHwHGgH9EA38Bp4D3wGzMA0sAxsA9+B38Ax/Acj9shp5Dzij4iRYOQych1JRuTIbeQ+ko+UI2qEkcfIc6Qd0SPdyGvkPfIZMSPTyDKyjXxHfiPH+B8YbMPJcDb4BmEIDBfD1ZAYpOFmuBtyQ2lQBgwPw9PQGrShM7wMb8PHYAyTYTFshq/hZzjMfzBjz5xmzjP+jJgJZi4z15lkRs7cZu4z+Uw5o2aYecw8Z9oZPdPNvGbeM58ZMzPNLDPbzHfmN3PM/8GKvXJaOa/4K2IlWLmsXFeSFblyW7mv5Cvlilph5bHyXGlX9Eq38lp5r3xWzMq0sqxsK9+V38qx/gc79s5p57zj74idYOeyc91JduTObee+k++UO2qHncfOc6fd0TvdzmvnvfPZMTvTzrKz7Xx3fjvHzh91ok09xWadggAAAABJRU5ErkJggg==', 'base64');

test('a photo taken for a question is kept on the tablet, shown back, and sent by Sync', { timeout: 120_000 }, async () => {
  env.tablets.photo = { dir: path.join(env.dir, 'photo'), user: 'phil', role: 'field_worker', org: 'police' };
  await startServer(env.serverListen);
  await fieldClient(['init', '--data', env.tablets.photo.dir, '--server', env.serverUrl, '--token',
    await token('phil', 'police', 'field_worker')]);
  const app = await startApp('photo');
  for (const kind of ['phone', 'tablet']) {
    const { context, page } = await openApp(kind, app);
    const { forms } = await pageApi(page, '/app/api/forms');
    const form = forms.find((f) => f.form === 'patrol');
    await startForm(page, form);
    await fillForm(page, form, `Photo ${kind}`);
    const question = page.locator('#q-photo');
    // The button says which question it answers.
    await question.getByRole('button', { name: 'Photo of the problem Take a photo', exact: true }).waitFor();
    // The camera is the file input's: a file that is not a photo is refused next to the question.
    await page.locator('#f-photo').setInputFiles({ name: 'notes.jpg', mimeType: 'image/jpeg',
      buffer: Buffer.from('these are not the bytes of a photo') });
    await question.getByText('This photo cannot be used: the file is not a JPEG or PNG photo',
      { exact: false }).waitFor();
    await page.locator('#f-photo').setInputFiles({ name: 'IMG_0001.png', mimeType: 'image/png',
      buffer: PHOTO_PNG });
    await question.getByText('Photo kept on this tablet, without where it was taken', { exact: false }).waitFor();
    assert.equal(await question.locator('.field-error').isHidden(), true, 'the refusal is gone');
    const preview = question.getByRole('img', { name: 'Photo for Photo of the problem' });
    await preview.waitFor();
    await page.waitForFunction(() => document.querySelector('#q-photo img')?.naturalWidth === 32);
    await question.getByRole('button', { name: 'Photo of the problem Take another photo', exact: true }).waitFor();
    await audit(page, `${kind} photo taken`);
    await screenshot(page, `app-${kind}-photo.png`);
    await button(page, 'Save').click();
    await heading(page, 'Home').waitFor();
  }
  const { page } = await openApp('phone', app);
  let { records } = await pageApi(page, '/app/api/records');
  assert.equal(records.length, 2);
  const name = records[0].fields.photo;
  assert.match(name, /^[0-9a-f]{64}\.png$/);
  assert.equal(records[0].photos[name], 'waiting');

  // The record says where its photo is, and shows it.
  await button(page, 'My records').click();
  await button(page.getByRole('listitem').first(), 'Open').click();
  await page.getByText('A photo: on this tablet, not sent yet').waitFor();
  await page.getByRole('img', { name: 'Photo for Photo of the problem' }).waitFor();
  await screenshot(page, 'app-phone-photo-record.png');

  await goHome(page);
  await button(page, 'Sync').click();
  await page.getByRole('status').filter({ hasText: /Sent \d+, received \d+/ })
    .waitFor({ timeout: 3 * STEP_MS });
  ({ records } = await pageApi(page, '/app/api/records'));
  assert.ok(records.every((r) => r.photos[r.fields.photo] === 'uploaded'), 'both photos sent');
  await stopServer();  // its store is read below
  // The coordinator's export has the very bytes the page sent (the PNG had no location to remove).
  const out = path.join(env.dir, 'photos-out');
  await syncServer('export', '--data', path.join(env.dir, 'central'), '--form', 'patrol',
    '--attachments', out);
  assert.deepEqual(fs.readFileSync(path.join(out, name)), PHOTO_PNG);
  await stopApp(app);
});

test('no console errors, no page errors, no request beyond 127.0.0.1', () => {
  assert.deepEqual(env.pageErrors, []);
  assert.deepEqual(env.consoleErrors, []);
  assert.deepEqual(env.offsiteRequests, []);
});
