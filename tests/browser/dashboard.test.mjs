// The coordinator's dashboard in a real browser: Debian's headless Chromium, driven by
// playwright-core, against a real sync_server holding records a real field_client synced.
//
//   SYNC_SERVER=build/sync_server/sync_server FIELD_CLIENT=build/field_client/field_client \
//     node --test tests/browser/
//
// Optional: CHROMIUM (default /usr/bin/chromium), BROWSER_ARTIFACTS (where the screenshots and
// downloads go; default a new temporary directory, printed as a diagnostic).
//
// The figure the page shows is checked against a count this file makes from what it logged,
// never against a figure the server reports.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const run = promisify(execFile);
const STEP_MS = 10_000;  // any single wait
const FY = 2023;
// A simple count: enforcement actions whose action is closure_order (schema/indicators.json).
const INDICATOR = 'pc_closure_orders';
const FORM = 'enforcement_action';
const COUNTED_ACTION = 'closure_order';
// Photos as a tablet's camera would give them: a 32 by 24 pixel PNG and JPEG.
const PHOTO_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAACAAAAAYCAIAAAAUMWhjAAAFiUlEQVR42g3NkfODUADA8bCLBsGoCx920SAYdeHDXTQIoi58+L1oEIy68GEXDYJRN3zYRUEQdcNh+Pt9/oGPZVnYFieLs4VvISwCi4vF1SKxkBY3i7tFblFaKAssHhZPi9ZCW3QWL4u3xcfCWEwWi8Vm8bX4WRwWluVgO5wczg6+g3AIHC4OV4fEQTrcHO4OuUPpoBxweDg8HVoH7dA5vBzeDh8H4zA5LA6bw9fh53A4/4GL7XJyObv4LsIlcLm4XF0SF+lyc7m75C6li3LB5eHydGldtEvn8nJ5u3xcjMvksrhsLl+Xn8vh/gcetsfJ4+zhewiPwOPicfVIPKTHzePukXuUHsoDj4fH06P10B6dx8vj7fHxMB6Tx+KxeXw9fh6H9x8IbMFJcBb4AiEIBBfBVZAIpOAmuAtyQSlQAgQPwVPQCrSgE7wEb8FHYASTYBFsgq/gJzjEfxBih5xCziF+iAgJQi4h15AkRIbcQu4heUgZokIIeYQ8Q9oQHdKFvELeIZ8QEzKFLCFbyDfkF3KE/0GEHXGKOEf4ESIiiLhEXCOSCBlxi7hH5BFlhIog4hHxjGgjdEQX8Yp4R3wiTMQUsURsEd+IX8QR/Qcxdswp5hzjx4iYIOYSc41JYmTMLeYek8eUMSqGmEfMM6aN0TFdzCvmHfOJMTFTzBKzxXxjfjFH/B9IbMlJcpb4EiEJJBfJVZJIpOQmuUtySSlREiQPyVPSSrSkk7wkb8lHYiSTZJFskq/kJznkf5Bip5xSzil+ikgJUi4p15QkRabcUu4peUqZolJIeaQ8U9oUndKlvFLeKZ8UkzKlLClbyjfll3Kk/0GGnXHKOGf4GSIjyLhkXDOSDJlxy7hn5Bllhsog45HxzGgzdEaX8cp4Z3wyTMaUsWRsGd+MX8aR/QcFdsGp4FzgF4iCoOBScC1ICmTBreBekBeUBaqAgkfBs6At0AVdwavgXfApMAVTwVKwFXwLfgVH8R8obMVJcVb4CqEIFBfFVZEopOKmuCtyRalQChQPxVPRKrSiU7wUb8VHYRSTYlFsiq/ipzjUf1BhV5wqzhV+hagIKi4V14qkQlbcKu4VeUVZoSqoeFQ8K9oKXdFVvCreFZ8KUzFVLBVbxbfiV3FU/0GNXXOqOdf4NaImqLnUXGuSGllzq7nX5DVljaqh5lHzrGlrdE1X86p513xqTM1Us9RsNd+aX81R/wcNdsOp4dzgN4iGoOHScG1IGmTDreHekDeUDaqBhkfDs6Ft0A1dw6vh3fBpMA1Tw9KwNXwbfg1H8x9obM1Jc9b4GqEJNBfNVZNopOamuWtyTalRGjQPzVPTarSm07w0b81HYzSTZtFsmq/mpzn0f9Bj95x6zj1+j+gJei49156kR/bceu49eU/Zo3roefQ8e9oe3dP1vHrePZ8e0zP1LD1bz7fn13P0/8GAPXAaOA/4A2IgGLgMXAeSATlwG7gP5APlgBpg4DHwHGgH9EA38Bp4D3wGzMA0sAxsA9+B38Ax/Acj9shp5Dzij4iRYOQych1JRuTIbeQ+ko+UI2qEkcfIc6Qd0SPdyGvkPfIZMSPTyDKyjXxHfiPH+B8YbMPJcDb4BmEIDBfD1ZAYpOFmuBtyQ2lQBgwPw9PQGrShM7wMb8PHYAyTYTFshq/hZzjMfzBjz5xmzjP+jJgJZi4z15lkRs7cZu4z+Uw5o2aYecw8Z9oZPdPNvGbeM58ZMzPNLDPbzHfmN3PM/8GKvXJaOa/4K2IlWLmsXFeSFblyW7mv5Cvlilph5bHyXGlX9Eq38lp5r3xWzMq0sqxsK9+V38qx/gc79s5p57zj74idYOeyc91JduTObee+k++UO2qHncfOc6fd0TvdzmvnvfPZMTvTzrKz7Xx3fjvHzh91ok09xWadggAAAABJRU5ErkJggg==', 'base64');
const PHOTO_JPEG = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAYACADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDzuGw9q0IbD2rWhsPar8Nh7V69TFnNgsdtqZMNh7VfhsPateGw9qvw2HtXnVMWfZ4LHbaleGw9qvw2HtRRXmVKkj8ewVaehfhsPar8Nh7UUV51WpI+zwVaeh//2Q==', 'base64');

// Everything shared by the tests below; set up in before().
const env = {
  dir: '',
  artifacts: '',
  server: null,
  url: '',
  tokens: {},
  logged: [],        // {org, action, occurred_at}: what the field devices logged
  photos: [],        // {id, name}: the Op Fortress patrols' photos, the first uploaded, the second not
  browser: null,
  consoleErrors: [],
  pageErrors: [],
  offsiteRequests: [],
};

// --- helpers ---------------------------------------------------------------------------------

async function syncServer(...args) {
  const { stdout } = await run(SYNC_SERVER, args, { timeout: STEP_MS });
  return stdout.trim();
}

// Plain (not shared, PIN-less) tablets, whatever the caller's environment says.
const fieldEnv = { ...process.env };
delete fieldEnv.FIELD_CLIENT_PIN;

async function fieldClient(...args) {
  const { stdout } = await run(FIELD_CLIENT, args, { timeout: STEP_MS, env: fieldEnv });
  return stdout.trim();
}

function token(user, org, role) {
  return syncServer('token', '--data', path.join(env.dir, 'central'), '--user', user, '--org', org,
    '--role', role);
}

// schema/ with a street brief version that also asks where exactly (a geopoint), so the Places
// tab has points to draw.
function writePointSchema(to) {
  const from = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../schema');
  fs.cpSync(from, to, { recursive: true });
  const v1 = JSON.parse(fs.readFileSync(path.join(to, 'forms/street_brief.v1.json'), 'utf8'));
  v1.version = 2;
  v1.fields.push({ name: 'location', type: 'geopoint', label: 'Where exactly' });
  fs.writeFileSync(path.join(to, 'forms/street_brief.v2.json'), JSON.stringify(v1));
}

// Starts `sync_server serve` on a free port and resolves to its URL once it says where it listens.
function startServer() {
  const schema = path.join(env.dir, 'schema');
  if (!fs.existsSync(schema)) writePointSchema(schema);
  const server = spawn(SYNC_SERVER, ['serve', '--data', path.join(env.dir, 'central'),
    '--listen', '127.0.0.1:0', '--schema', schema], { stdio: ['ignore', 'pipe', 'pipe'] });
  env.server = server;
  let stderr = '';
  server.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`sync_server did not say where it listens within ${STEP_MS} ms: ${stderr}`)), STEP_MS);
    server.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sync_server exited (${code}) before listening: ${stderr}`));
    });
  });
}

async function stopServer() {
  const server = env.server;
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function logAction(device, org, action, occurredAt) {
  await fieldClient('log', '--data', device, FORM, '--set', `action=${action}`,
    '--occurred-at', occurredAt);
  env.logged.push({ org, action, occurred_at: occurredAt });
}

// The UK financial year and quarter of a timestamp written in UK local time (as logged below):
// April-June is Q1 ... January-March is Q4 of the year before.
function period(occurredAt) {
  const [year, month] = occurredAt.slice(0, 7).split('-').map(Number);
  const fy = month >= 4 ? year : year - 1;
  const quarter = `Q${Math.floor(((month + 8) % 12) / 3) + 1}`;
  return { fy, quarter };
}

// The figure, computed here from what was logged: {Q1..Q4, year} for one org or all.
function expectedFigures(org = '') {
  const figures = { Q1: 0, Q2: 0, Q3: 0, Q4: 0, year: 0 };
  for (const record of env.logged) {
    if (record.action !== COUNTED_ACTION || (org && record.org !== org)) continue;
    const { fy, quarter } = period(record.occurred_at);
    if (fy !== FY) continue;
    figures[quarter] += 1;
    figures.year += 1;
  }
  return figures;
}

async function newPage() {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.setDefaultTimeout(STEP_MS);
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (['blob:', 'data:'].includes(url.protocol)) return;
    if (url.hostname !== '127.0.0.1') env.offsiteRequests.push(request.url());
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A refused sign-in is an HTTP error the browser reports on the console; that one is expected.
    const where = message.location()?.url || '';
    const expected = /Failed to load resource: the server responded with a status of 40[13]/.test(message.text()) &&
      where.endsWith('/v1/enrol');
    if (!expected) env.consoleErrors.push(`${message.text()} (${where})`);
  });
  page.on('pageerror', (error) => env.pageErrors.push(String(error)));
  return { context, page };
}

async function signIn(page, code) {
  await page.goto(env.url);  // "/" redirects to /dashboard/
  assert.match(page.url(), /\/dashboard\/$/);
  await page.getByLabel('Sign-in code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function chooseYear(page, fy, org = '') {
  await page.selectOption('#filter-fy', String(fy));
  await page.selectOption('#filter-org', org);
  await page.waitForSelector(`#return-body[data-fy="${fy}"][data-org="${org}"]`);
}

// The element holding one figure's text (the dashboard's test hook).
function hook(indicator, periodName) {
  return `[data-indicator="${indicator}"][data-period="${periodName}"]`;
}

function figure(page, indicator, periodName) {
  return page.locator(`#panel-return ${hook(indicator, periodName)}`);
}

// The return's table row of an indicator.
function indicatorRow(page, indicator) {
  return page.locator(`#panel-return tr:has(${hook(indicator, 'Q1')})`);
}

async function assertFigures(page, expected) {
  for (const p of ['Q1', 'Q2', 'Q3', 'Q4', 'year']) {
    assert.equal((await figure(page, INDICATOR, p).textContent()).trim(), String(expected[p]),
      `${INDICATOR} ${p} on the page`);
  }
}

// Minimal CSV parsing (quoted fields with commas and doubled quotes).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; ++i; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function screenshot(page, name) {
  const file = path.join(env.artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  const png = fs.readFileSync(file);
  assert.ok(png.length > 1000, `${name} is ${png.length} bytes`);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name} is a PNG`);
}

// --- setup -----------------------------------------------------------------------------------

before(async () => {
  env.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beatbook-browser-'));
  env.artifacts = process.env.BROWSER_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'beatbook-browser-artifacts-'));
  fs.mkdirSync(env.artifacts, { recursive: true });
  env.tokens = {
    police: await token('pat', 'police', 'field_worker'),
    reach: await token('rik', 'wcc_asb', 'field_worker'),
    pastor: await token('amy', 'street_pastors', 'field_worker'),  // tried on the dashboard
    coordinator: await token('cleo', 'csp', 'coordinator'),
    board: await token('bea', 'csp', 'board'),
    lead: await token('dee', 'csp', 'safeguarding_lead'),
  };
  env.url = await startServer();

  // Two field devices log offline, then sync.
  const police = path.join(env.dir, 'pat');
  const reach = path.join(env.dir, 'rik');
  await fieldClient('init', '--data', police, '--server', env.url, '--token', env.tokens.police);
  await fieldClient('init', '--data', reach, '--server', env.url, '--token', env.tokens.reach);
  await logAction(police, 'police', 'closure_order', '2023-04-20T11:00:00+01:00');
  await logAction(police, 'police', 'closure_order', '2023-05-10T14:00:00+01:00');
  await logAction(police, 'police', 'closure_order', '2023-06-02T09:30:00+01:00');
  await logAction(police, 'police', 'licence_review', '2023-06-03T22:00:00+01:00');  // not counted
  await logAction(police, 'police', 'closure_order', '2023-08-15T10:00:00+01:00');
  await logAction(police, 'police', 'closure_order', '2023-09-29T16:45:00+01:00');
  await logAction(reach, 'wcc_asb', 'closure_order', '2023-06-10T12:00:00+01:00');
  await logAction(reach, 'wcc_asb', 'dvpn', '2023-06-11T12:00:00+01:00');  // not counted
  await logAction(police, 'police', 'closure_order', '2024-06-01T12:00:00+01:00');  // FY 2024
  // Street briefs with the place they were held and, for two, where exactly.
  for (const [place, location, when] of [
    ['Jewry Street', '51.06321 -1.31334 12', '2023-05-02T19:00:00+01:00'],
    ['jewry street', '51.06295 -1.31402 8', '2023-08-02T19:00:00+01:00'],
    ['Behind the library', '', '2023-06-05T19:00:00+01:00'],
  ]) {
    const sets = ['--set', `place=${place}`, '--set', 'attendees=6'];
    if (location) sets.push('--set', `location=${location}`);
    await fieldClient('log', '--data', police, 'street_brief', ...sets, '--occurred-at', when);
  }
  // Two Op Fortress patrols with a photo each. The second photo is changed on the tablet before
  // the sync, so the tablet never sends it: the drill-down says it is not uploaded.
  for (const [place, photo, file] of [['Jewry Street', PHOTO_PNG, 'a.png'], ['The Broadway', PHOTO_JPEG, 'b.jpg']]) {
    const id = await fieldClient('log', '--data', police, 'patrol', '--set', `place=${place}`,
      '--set', 'patrol_type=op_fortress', '--occurred-at', '2023-06-20T21:00:00+01:00');
    fs.writeFileSync(path.join(env.dir, file), photo);
    env.photos.push({ id, name: await fieldClient('attach', '--data', police, id, 'photo', path.join(env.dir, file)) });
  }
  await run('sqlite3', [path.join(police, 'beatbook.db'), 'UPDATE attachments SET content = ' +
    `substr(content, 1, 50) || x'ff' || substr(content, 52) WHERE name = '${env.photos[1].name}'`]);
  await fieldClient('sync', '--data', police);
  await fieldClient('sync', '--data', reach);

  env.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: STEP_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, { timeout: 40_000 });

after(async () => {
  await env.browser?.close().catch(() => {});
  await stopServer();
  if (env.dir) fs.rmSync(env.dir, { recursive: true, force: true });
  console.log(`screenshots and downloads: ${env.artifacts}`);
});

// --- tests -----------------------------------------------------------------------------------

test('sync_server serves the dashboard itself, under a strict CSP', { timeout: 20_000 }, async () => {
  const root = await fetch(env.url, { redirect: 'manual' });
  assert.ok([301, 302, 303, 307, 308].includes(root.status), `GET / answers ${root.status}`);
  assert.match(root.headers.get('location') || '', /\/dashboard\/$/);
  const types = { '': /^text\/html/, 'app.js': /^(text|application)\/javascript/, 'style.css': /^text\/css/,
    'favicon.svg': /^image\/svg\+xml/ };
  for (const [name, type] of Object.entries(types)) {
    const response = await fetch(`${env.url}/dashboard/${name}`);
    assert.equal(response.status, 200, `/dashboard/${name}`);
    assert.match(response.headers.get('content-type') || '', type, `/dashboard/${name} content type`);
    if (name === '') {
      const csp = response.headers.get('content-security-policy') || '';
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    }
    await response.arrayBuffer();
  }
});

test("a field worker's code is refused by the dashboard, and not used up", { timeout: 20_000 }, async () => {
  const { context, page } = await newPage();
  await signIn(page, env.tokens.pastor);
  const error = page.locator('#signin-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  assert.equal(await error.getAttribute('role'), 'alert');
  assert.ok(await page.locator('#app').isHidden(), 'the dashboard stays hidden');
  assert.ok(await page.locator('#signout').isHidden(), 'nobody to sign out');
  assert.equal(await page.locator('[data-indicator]').count(), 0, 'no figures shown');
  assert.equal(await page.evaluate(() => localStorage.getItem('beatbook.credential')), null);
  await context.close();
  // The refusal did not use the code up: the field worker's tablet can still enrol with it.
  await fieldClient('init', '--data', path.join(env.dir, 'amy'), '--server', env.url, '--token',
    env.tokens.pastor);
});

test('a coordinator signs in and reads the figure computed from what was logged', { timeout: 20_000 }, async () => {
  const expected = expectedFigures();
  assert.deepEqual(expected, { Q1: 4, Q2: 2, Q3: 0, Q4: 0, year: 6 });  // what before() logged
  const { context, page } = await newPage();
  env.coordinator = { context, page };
  await signIn(page, env.tokens.coordinator);
  await page.locator('#app').waitFor();
  await chooseYear(page, FY);
  await assertFigures(page, expected);

  const credential = JSON.parse(await page.evaluate(() => localStorage.getItem('beatbook.credential')));
  assert.equal(credential.role, 'coordinator');
  assert.match(credential.credential, /^dev-[^.]+\..+/);

  // Every form control has a label.
  const unlabelled = await page.$$eval('input, select, textarea',
    (nodes) => nodes.filter((n) => !n.labels?.length && !n.getAttribute('aria-label')).map((n) => n.id));
  assert.deepEqual(unlabelled, []);

  // The trend chart describes its values.
  const spark = indicatorRow(page, INDICATOR).locator('svg[role="img"]');
  assert.match(await spark.getAttribute('aria-label'), /Q1 4, Q2 2, Q3 0, Q4 0/);
});

test('the CSV and Excel downloads hold the return', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  const expected = expectedFigures();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  assert.equal(csv.suggestedFilename(), `beatbook-return-${FY}.csv`);
  const csvFile = path.join(env.artifacts, csv.suggestedFilename());
  await csv.saveAs(csvFile);
  const rows = parseCsv(fs.readFileSync(csvFile, 'utf8'));
  const header = rows[0];
  const row = rows.find((r) => r[0] === INDICATOR);
  assert.ok(row, `${INDICATOR} has a row in the CSV`);
  for (const p of ['Q1', 'Q2', 'Q3', 'Q4', 'year']) {
    assert.equal(Number(row[header.indexOf(p)]), expected[p], `CSV ${p}`);
  }

  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#download-xlsx')]);
  assert.equal(xlsx.suggestedFilename(), `beatbook-return-${FY}.xlsx`);
  const xlsxFile = path.join(env.artifacts, xlsx.suggestedFilename());
  await xlsx.saveAs(xlsxFile);
  assert.equal(fs.readFileSync(xlsxFile).subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
});

test('the quarter and priority filters narrow the return', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  const expected = expectedFigures();
  await page.selectOption('#filter-quarter', 'Q2');
  await page.selectOption('#filter-priority', 'pc');
  try {
    assert.equal(await figure(page, INDICATOR, 'Q1').count(), 0, 'Q1 hidden');
    assert.equal(await figure(page, INDICATOR, 'Q2').textContent(), String(expected.Q2));
    assert.equal(await figure(page, INDICATOR, 'year').textContent(), String(expected.year));
    assert.equal(await page.locator('#panel-return [data-indicator^="da_"]').count(), 0, 'other priorities hidden');
  } finally {
    await page.selectOption('#filter-quarter', '');
    await page.selectOption('#filter-priority', '');
  }
  await assertFigures(page, expected);
});

test('the org filter counts one partner only', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  try {
    await chooseYear(page, FY, 'police');
    await assertFigures(page, expectedFigures('police'));
  } finally {
    await chooseYear(page, FY, '');
  }
  await assertFigures(page, expectedFigures());
});

test('a figure drills down to its records, by keyboard', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  const cell = page.locator(`#panel-return button.drill:has(${hook(INDICATOR, 'Q1')})`);
  await cell.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('#drill-dialog');
  await dialog.waitFor();
  await page.locator('#drill-body tbody tr').first().waitFor();
  assert.equal(await page.locator('#drill-body tbody tr').count(), expectedFigures().Q1);
  assert.match(await page.locator('#drill-body thead').textContent(), /record id/);
  assert.match(await page.locator('#drill-body tbody').textContent(), /police/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(await cell.evaluate((node) => node === document.activeElement), 'focus returns to the figure');
});

test('a record\'s photo opens in the drill-down, audited, and one not uploaded says so', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  const cell = page.locator(`#panel-return button.drill:has(${hook('pc_op_fortress_operations', 'Q1')})`);
  await cell.click();
  const dialog = page.locator('#drill-dialog');
  await dialog.waitFor();
  await page.locator('#drill-body tbody tr').nth(1).waitFor();
  assert.equal(await page.locator('#drill-body tbody tr').count(), 2);
  await dialog.getByText('Not uploaded yet', { exact: true }).waitFor();
  const view = dialog.getByRole('button', { name: 'View photo', exact: true });
  assert.equal(await view.count(), 1, 'one photo is on the server');
  assert.ok((await view.boundingBox()).height >= 48, 'a button big enough to tap');
  await view.click();
  await dialog.getByRole('img', { name: `Photo of record ${env.photos[0].id}` }).waitFor();
  await page.waitForFunction(() => document.querySelector('.drill-photo-img')?.naturalWidth === 32);
  await dialog.getByText('Viewing it is recorded in the audit log', { exact: false }).waitFor();
  await screenshot(page, 'dashboard-drill-photo.png');
  // The dialog as the coordinator sees it (a full-page picture shows it where the page was).
  await page.screenshot({ path: path.join(env.artifacts, 'dashboard-drill-photo-dialog.png') });
  const audit = JSON.parse(await syncServer('audit', '--data', path.join(env.dir, 'central'), '--json'));
  const views = (audit.events || audit).filter((e) => e.action === 'attachment_view');
  assert.deepEqual(views.map((e) => [e.detail.record_id, e.detail.name]),
    [[env.photos[0].id, env.photos[0].name]]);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
});

test('sync health lists the field devices, reached by keyboard', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  // Tabs by keyboard: the arrow keys move between them.
  await page.getByRole('tab', { name: 'Return' }).focus();
  await page.keyboard.press('ArrowRight');
  const sync = page.getByRole('tab', { name: 'Sync health' });
  assert.equal(await sync.getAttribute('aria-selected'), 'true');
  assert.ok(await sync.evaluate((node) => node === document.activeElement), 'focus moves with the tab');
  const table = page.locator('#sync-body table');
  await table.waitFor();
  for (const user of ['pat', 'rik']) {
    assert.equal(await table.locator(`tbody tr:has(td:text-is("${user}"))`).count(), 1, `a row for ${user}`);
  }
});

test('approving Q1 warns first, and a late record offers a restatement', { timeout: 25_000 }, async () => {
  const { page } = env.coordinator;
  await page.getByRole('tab', { name: 'Conflicts & late records' }).click();
  await page.getByRole('button', { name: 'Approve Q1' }).click();
  const dialog = page.locator('#approve-dialog');
  await dialog.waitFor();
  const confirm = page.locator('#approve-confirm');
  await page.waitForFunction(() => !document.getElementById('approve-confirm').disabled);
  const notes = await page.locator('#approve-warnings').textContent();
  assert.match(notes, /synced/);
  // Partners by name, not code, in what is owed.
  assert.match(notes, /partner returns are not entered/);
  assert.doesNotMatch(notes, /— [a-z][a-z_]* \((owed|due)/, 'a partner named by its code');
  await confirm.click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Restate Q1' }).first().waitFor();

  // A late Q1 closure order arrives; the approved figure stands, marked as changed.
  const approved = expectedFigures();
  await logAction(path.join(env.dir, 'pat'), 'police', 'closure_order', '2023-06-20T12:00:00+01:00');
  await fieldClient('sync', '--data', path.join(env.dir, 'pat'));
  await page.getByRole('tab', { name: 'Return' }).click();
  await page.getByRole('button', { name: 'Refresh' }).click();
  await indicatorRow(page, INDICATOR).locator('.late').first().waitFor();
  assert.equal(await figure(page, INDICATOR, 'Q1').textContent(), String(approved.Q1));
  await page.getByRole('tab', { name: 'Conflicts & late records' }).click();
  const restate = page.locator('#late-body [data-restate="Q1"]');
  await restate.waitFor();
  await restate.click();
  await page.waitForFunction(() => !document.getElementById('approve-confirm').disabled);
  await page.locator('#approve-confirm').click();
  await page.locator('#approve-dialog').waitFor({ state: 'hidden' });
  await page.getByRole('tab', { name: 'Return' }).click();
  await page.waitForFunction(([id, want]) =>
    document.querySelector(`#panel-return [data-indicator="${id}"][data-period="Q1"]`)?.textContent === want,
  [INDICATOR, String(expectedFigures().Q1)]);
});

test('still owed: per partner, with the reporting rate and what each owes', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  await page.getByRole('tab', { name: 'Still owed' }).click();
  const table = page.locator('#owed-body table');
  await table.waitFor();
  // Partners by name, not code; nobody entered any return, so the police owe theirs.
  const police = table.locator('tbody tr:has(th:text-is("Police"))');
  assert.equal(await police.count(), 1);
  assert.ok(Number(await police.locator('td').first().textContent()) > 0, 'the police owe returns');
  assert.match(await page.locator('#owed-body').textContent(), /Reporting rate/);
  const details = page.locator('#owed-body details', { hasText: 'Police:' });
  await details.locator('summary').click();
  assert.match(await details.textContent(), /Owed.*Q1: .*due by \d+ \w+ 2023/s);
  await screenshot(page, 'dashboard-still-owed.png');
  await page.setViewportSize({ width: 768, height: 1024 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `Still owed is ${overflow}px wider than a 768px tablet`);
  await screenshot(page, 'dashboard-still-owed-tablet.png');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('tab', { name: 'Return' }).click();
});

test('places: records per place and quarter, named places together, and the points drawn', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  await page.getByRole('tab', { name: 'Places' }).click();
  await page.getByLabel('Form', { exact: true }).selectOption({ label: 'Street brief' });
  const table = page.locator('#places-body table');
  await table.waitFor();
  await page.getByText('3 street brief records in 2023/24.').waitFor();
  // "Jewry Street" and "jewry street" are one named place; the library is counted as typed.
  const jewry = table.locator('tbody tr').first();
  assert.equal((await jewry.locator('th').textContent()).trim(), 'Jewry Street (street)');
  assert.deepEqual(await jewry.locator('td').allTextContents(), ['1', '1', '0', '0', '2']);
  assert.equal((await table.locator('tbody tr').nth(1).locator('th').textContent()).trim(), 'Behind the library');
  const plot = page.getByRole('img', { name: /^2 recorded points, about \d+ m across/ });
  await plot.waitFor();
  assert.equal(await plot.locator('circle').count(), 2);
  await page.getByText('Each point (2)').click();
  await page.getByText('Q1: 51.06321, -1.31334 (within 12 m)').waitFor();
  assert.ok(!/null|undefined/.test(await page.locator('#places-body').textContent()),
    'no missing value shows as text');
  await screenshot(page, 'dashboard-places.png');
  await page.setViewportSize({ width: 768, height: 1024 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `Places is ${overflow}px wider than a 768px tablet`);
  await screenshot(page, 'dashboard-places-tablet.png');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('tab', { name: 'Return' }).click();
});

test('a safeguarding concern from a tablet is acknowledged and its action recorded', { timeout: 30_000 }, async () => {
  const { page } = env.coordinator;
  // A Street Pastor's tablet (enrolled above) logs a contact with a safeguarding concern offline,
  // then syncs.
  const amy = path.join(env.dir, 'amy');
  const id = await fieldClient('log', '--data', amy, 'outreach_contact', '--set', 'place=Jewry Street',
    '--set', 'age_band=18_24', '--set', 'issues=domestic_abuse,mental_health', '--set', 'referrals=stop',
    '--set', 'safeguarding_concern=true', '--set', 'notes=Said her partner took her phone.',
    '--occurred-at', '2023-06-02T23:40:00+01:00');
  await fieldClient('sync', '--data', amy);

  await page.getByRole('tab', { name: /^Safeguarding/ }).click();
  const card = page.locator('#safeguarding-body article.concern');
  await card.waitFor();
  assert.equal(await card.count(), 1);
  const text = await card.textContent();
  // Labels, not codes; the partner by name; who logged it.
  assert.match(text, /Outreach contact, Street Pastors/);
  assert.match(text, /Domestic abuse, Mental health/);
  assert.match(text, /STOP Domestic Abuse/);
  assert.match(text, /Said her partner took her phone\. \(sensitive\)/);
  assert.match(text, /Logged by amy/);
  assert.doesNotMatch(text, /domestic_abuse|street_pastors|\bnull\b|undefined/);
  assert.match(await page.locator('#tab-safeguarding').textContent(), /1 waiting/);
  assert.match(await page.locator('#safeguarding-body .warning-box').textContent(), /1 of 1 concerns wait/);

  // Saving an empty action says why, next to the box, and saves nothing.
  await card.getByRole('button', { name: 'Save action' }).click();
  assert.match(await card.locator('.action-form + .field-error').textContent(), /Say what was done/);
  assert.equal(await card.getByLabel('What was done').getAttribute('aria-invalid'), 'true');

  // Text typed and not yet saved survives the list being drawn again after another step.
  await card.getByLabel('What was done').fill('Draft: call STOP');
  await card.getByRole('button', { name: 'Acknowledge' }).click();
  await card.locator('.badge', { hasText: 'Acknowledged' }).waitFor();
  assert.equal(await card.getByLabel('What was done').inputValue(), 'Draft: call STOP');
  assert.match(await card.textContent(), /Acknowledged by cleo on/);
  assert.equal(await page.locator('#tab-safeguarding').textContent(), 'Safeguarding');
  await card.getByLabel('What was done').fill('Referred to STOP duty worker; police informed.');
  await card.getByRole('button', { name: 'Save action' }).click();
  await card.locator('.recorded-action').waitFor();
  assert.match(await card.locator('.recorded-action').textContent(),
    /Action recorded: Referred to STOP duty worker; police informed\. \(cleo, /);
  assert.doesNotMatch(await card.textContent(), /\bnull\b|undefined/);
  // A further action is added; the first is kept, under "Earlier actions".
  await card.getByLabel('A further action').fill('Followed up with STOP: she is in a refuge.');
  await card.getByRole('button', { name: 'Save action' }).click();
  await card.locator('.recorded-action', { hasText: 'in a refuge' }).waitFor();
  assert.equal(await card.getByLabel('A further action').inputValue(), '', 'the saved text left the box');
  await card.locator('.earlier-actions summary').click();
  assert.match(await card.locator('.earlier-actions').textContent(), /Referred to STOP duty worker/);

  // Each view and step is in the audit log, against the record.
  const audit = JSON.parse(await syncServer('audit', '--data', path.join(env.dir, 'central'), '--json'));
  const events = (audit.events || audit).filter((e) => e.action?.startsWith('safeguarding_'));
  assert.ok(events.some((e) => e.action === 'safeguarding_view' && e.detail.records.includes(id)));
  assert.ok(events.some((e) => e.action === 'safeguarding_acknowledge' && e.detail.record === id));
  assert.ok(events.some((e) => e.action === 'safeguarding_action' && e.detail.record === id));

  // Touch targets, and no sideways scrolling on a tablet or a phone.
  for (const name of ['Save action']) {
    const box = await card.getByRole('button', { name }).boundingBox();
    assert.ok(box.height >= 48, `${name} is ${box.height}px high`);
  }
  await screenshot(page, 'dashboard-safeguarding.png');
  for (const [width, height, name] of [[768, 1024, 'tablet'], [390, 844, 'phone']]) {
    await page.setViewportSize({ width, height });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `Safeguarding is ${overflow}px wider than a ${width}px ${name}`);
    await screenshot(page, `dashboard-safeguarding-${name}.png`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('tab', { name: 'Return' }).click();
});

test('the safeguarding lead sees the queue alone, and follows a concern up', { timeout: 30_000 }, async () => {
  const { context, page } = await newPage();
  try {
    await signIn(page, env.tokens.lead);
    await page.getByRole('heading', { name: 'Safeguarding queue', level: 1 }).waitFor();
    await page.getByText('dee (csp, safeguarding lead)').waitFor();
    // One tab, no return, no filters: the role reads nothing else.
    const tabs = await page.getByRole('tab').all();
    assert.deepEqual(await Promise.all(tabs.map((t) => t.textContent())).then((names) =>
      names.map((n) => n.replace(/\s+/g, ' ').trim().split(' (')[0])), ['Safeguarding']);
    assert.equal(await page.locator('#filters').isVisible(), false);
    assert.equal(await page.locator('#panel-return').isVisible(), false);
    const card = page.locator('#safeguarding-body article.concern');
    await card.waitFor();
    assert.match(await card.textContent(), /Acknowledged by cleo on/);
    await card.getByLabel('A further action').fill('Checked in with the refuge: she is safe.');
    await card.getByRole('button', { name: 'Save action' }).click();
    await card.locator('.recorded-action', { hasText: 'Checked in with the refuge' }).waitFor();
    await screenshot(page, 'dashboard-safeguarding-lead.png');
    const audit = JSON.parse(await syncServer('audit', '--data', path.join(env.dir, 'central'), '--json'));
    const steps = (audit.events || audit).filter((e) => e.action === 'safeguarding_action');
    assert.ok(steps.some((e) => e.actor === 'dee' && e.role === 'safeguarding_lead'),
      'the lead\'s step is in the audit log under their name and role');
  } finally {
    await context.close();
  }
});

test('screenshots, wide and tablet, with no sideways scrolling on a tablet', { timeout: 20_000 }, async () => {
  const { page } = env.coordinator;
  await screenshot(page, 'dashboard-return.png');
  await page.setViewportSize({ width: 768, height: 1024 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 768px tablet`);
  await screenshot(page, 'dashboard-return-tablet.png');
  await page.getByRole('tab', { name: 'Board pack' }).click();
  await page.locator('#pack-body .priority').first().waitFor();
  await page.emulateMedia({ media: 'print' });
  await screenshot(page, 'board-pack-print.png');
  await page.emulateMedia({ media: 'screen' });
});

test('signing out revokes and forgets the credential, and a used code is refused', { timeout: 20_000 }, async () => {
  const { context, page } = env.coordinator;
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('beatbook.credential')));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Sign-in code').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('beatbook.credential')), null);
  // A copy of the credential taken before signing out opens nothing any more.
  const reused = await fetch(`${env.url}/v1/orgs`,
    { headers: { Authorization: `Bearer ${stored.credential}` } });
  assert.equal(reused.status, 403);
  assert.equal((await reused.json()).error.code, 'device_revoked');
  await signIn(page, env.tokens.coordinator);
  const error = page.locator('#signin-error');
  await error.filter({ hasText: /used/ }).waitFor();
  assert.equal(await page.locator('[data-indicator]').count(), 0, 'no figures shown');
  await context.close();
});

test('a board member reads the return but has no sync health, review or drill-down', { timeout: 20_000 }, async () => {
  const { context, page } = await newPage();
  await signIn(page, env.tokens.board);
  await page.locator('#app').waitFor();
  await chooseYear(page, FY);
  await assertFigures(page, expectedFigures());
  assert.equal(await page.getByRole('tab', { name: 'Sync health' }).count(), 0);
  assert.equal(await page.getByRole('tab', { name: 'Conflicts & late records' }).count(), 0);
  assert.equal(await page.getByRole('tab', { name: /^Safeguarding/ }).count(), 0);
  assert.equal(await page.locator('#panel-return button.drill').count(), 0, 'no drill-down');
  assert.ok(await page.locator('#download-csv').isVisible());
  // Places: the counts, but not where exactly.
  await page.getByRole('tab', { name: 'Places' }).click();
  await page.getByLabel('Form', { exact: true }).selectOption({ label: 'Street brief' });
  await page.getByText('2 records have an exact point; only the coordinator sees where.').waitFor();
  assert.equal(await page.locator('#places-body svg').count(), 0);
  // What workers typed is one row, and small counts are withheld.
  const shown = await page.locator('#places-body').textContent();
  assert.ok(!/library/i.test(shown), 'typed place text is not shown to the board');
  assert.match(shown, /Places not on the list/);
  assert.match(shown, /<5/);
  await page.getByRole('tab', { name: 'Board pack' }).click();
  await page.locator('#pack-body .priority').first().waitFor();
  await context.close();
});

test('no console errors, no page errors, no request beyond 127.0.0.1', () => {
  assert.deepEqual(env.pageErrors, []);
  assert.deepEqual(env.consoleErrors, []);
  assert.deepEqual(env.offsiteRequests, []);
});
