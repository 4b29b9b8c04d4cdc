'use strict';
// Push (and optionally pull) against a CouchDB-style peer: PouchDB replicating to a PouchDB
// HTTP server (server.js, a separate process) over 127.0.0.1.
//   node push_bench.js RECORDS.jsonl [--pull]
// RECORDS.jsonl: one record a line, {"id":"...","form":"...","occurred_at":"...","fields":{...}}.
// Each becomes a document with _id = id and the rest as its body, written to a local LevelDB
// PouchDB in batches of 500 (not timed). Timed: local.replicate.to(remote) until it completes;
// with --pull, also a fresh empty local PouchDB's replicate.from(remote). Each is checked: the
// receiving side must hold exactly the number of records.
// Prints one JSON line on stdout:
//   {"records":N,"push_seconds":S,"push_per_second":R[,"pull_seconds":S,"pull_per_second":R],
//    "pouchdb":"9.0.0","server":"express-pouchdb@4.2.0"}
// Errors go to stderr with a non-zero exit. The server child and the temp dirs are removed on
// every exit; the whole run gives up after 600 s.

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const { performance } = require('perf_hooks');

const BATCH = 500;
const DEADLINE_SECONDS = 600;
const SERVER_START_SECONDS = 60;

let tmpRoot = null;
let serverChild = null;
let serverStopping = false;
const openDbs = [];

class BenchError extends Error {}

// Awaits `promise`, turning a rejection into a BenchError that says what was being done.
async function doing(what, promise) {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof BenchError) throw err;
    const name = err && (err.name || err.error);
    const detail = err && (err.message || err.reason);
    throw new BenchError(`${what}: ${[name, detail].filter(Boolean).join(': ') || String(err)}` +
      (err && err.status ? ` (status ${err.status})` : ''));
  }
}

function usageAndExit(msg) {
  process.stderr.write(`push_bench.js: ${msg}\nusage: node push_bench.js RECORDS.jsonl [--pull]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let file = null;
  let pull = false;
  for (const a of argv) {
    if (a === '--pull') pull = true;
    else if (a.startsWith('--')) usageAndExit(`unknown option ${a}`);
    else if (file === null) file = a;
    else usageAndExit(`unexpected argument ${a}`);
  }
  if (file === null) usageAndExit('RECORDS.jsonl is missing');
  return { file, pull };
}

// Synchronous last resort, for process exit on any path: the child is killed, the dirs removed.
function cleanupSync() {
  if (serverChild && serverChild.exitCode === null && serverChild.signalCode === null) {
    try { serverChild.kill('SIGKILL'); } catch (_) { /* already gone */ }
  }
  if (tmpRoot) {
    try { fs.rmSync(tmpRoot, { recursive: true, force: true }); } catch (_) { /* best effort */ }
    tmpRoot = null;
  }
}
process.on('exit', cleanupSync);

// Orderly cleanup: close the local databases, stop the server with SIGTERM (SIGKILL after 5 s).
async function cleanup() {
  for (const db of openDbs.splice(0)) {
    try { await db.close(); } catch (_) { /* best effort */ }
  }
  const child = serverChild;
  serverStopping = true; // from here on its exit is expected
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => {
      const kill = setTimeout(() => { try { child.kill('SIGKILL'); } catch (_) { /* gone */ } }, 5000);
      child.once('exit', () => { clearTimeout(kill); resolve(); });
      try { child.kill('SIGTERM'); } catch (_) { clearTimeout(kill); resolve(); }
    });
  }
  serverChild = null;
  cleanupSync();
}

let finishing = false;
function fail(msg, code = 1) {
  if (finishing) return;
  finishing = true;
  process.stderr.write(`push_bench.js: ${msg}\n`);
  // Cleanup may hang (a database that never closes): exit regardless after 10 s.
  setTimeout(() => process.exit(code), 10_000).unref();
  cleanup().finally(() => process.exit(code));
}

function startServer(dataDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), '0', dataDir], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, BEATBOOK_EXIT_ON_STDIN_END: '1' },
    });
    serverChild = child;
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) {
        settled = true;
        reject(new BenchError(`server.js did not print "listening PORT" within ${SERVER_START_SECONDS} s`));
      }
    }, SERVER_START_SECONDS * 1000);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (!settled && m) {
        settled = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      } else if (!settled) {
        process.stderr.write(`server.js stdout: ${line}\n`);
      }
    });
    child.on('error', (err) => {
      if (!settled) { settled = true; clearTimeout(timer); reject(err); }
    });
    child.on('exit', (code, signal) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(new BenchError(`server.js exited before listening (code ${code}, signal ${signal})`));
      } else if (!serverStopping) {
        process.stderr.write(`push_bench.js: server.js exited early (code ${code}, signal ${signal})\n`);
      }
    });
  });
}

// Reads RECORDS.jsonl and writes it to `db` in bulkDocs batches of BATCH; returns the count.
async function loadRecords(file, db) {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let batch = [];
  let count = 0;
  let lineNo = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const results = await doing('writing records locally', db.bulkDocs(batch));
    const bad = results.filter((r) => r.error || !r.ok);
    if (bad.length > 0) {
      const r = bad[0];
      throw new BenchError(`writing records locally: ${bad.length} of ${batch.length} failed, ` +
        `first ${r.id}: ${r.name || r.error} ${r.message || r.reason || ''}`.trim());
    }
    count += batch.length;
    batch = [];
  };
  for await (const line of lines) {
    lineNo += 1;
    if (line.trim() === '') continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new BenchError(`${file}:${lineNo}: not JSON: ${e.message}`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new BenchError(`${file}:${lineNo}: not a JSON object`);
    }
    const { id, ...body } = rec;
    if (typeof id !== 'string' || id === '') {
      throw new BenchError(`${file}:${lineNo}: "id" must be a non-empty string`);
    }
    batch.push({ _id: id, ...body });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return count;
}

async function docCount(db) {
  return (await db.info()).doc_count;
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main() {
  const { file, pull } = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(file)) throw new BenchError(`${file}: no such file`);

  const PouchDB = require('pouchdb');
  const serverVersion = require('express-pouchdb/package.json').version;

  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'beatbook-pouch-'));
  const port = await startServer(path.join(tmpRoot, 'server'));
  const remoteUrl = `http://127.0.0.1:${port}/records`;

  // Setup, not timed: the local records, and the remote database created empty.
  const local = new PouchDB(path.join(tmpRoot, 'local'), { adapter: 'leveldb' });
  openDbs.push(local);
  const n = await loadRecords(file, local);
  if (n === 0) throw new BenchError(`${file}: no records`);
  const localCount = await docCount(local);
  if (localCount !== n) {
    throw new BenchError(`local database holds ${localCount} documents for ${n} records (duplicate ids?)`);
  }
  const remote = new PouchDB(remoteUrl);
  openDbs.push(remote);
  const before = await doing(`creating ${remoteUrl}`, docCount(remote));
  if (before !== 0) throw new BenchError(`remote database not empty at start (${before} documents)`);

  const replOpts = { batch_size: BATCH, batches_limit: 10, retry: false };

  // Timed: the push.
  let t0 = performance.now();
  const pushResult = await doing('push replication', local.replicate.to(remote, replOpts));
  const pushSeconds = (performance.now() - t0) / 1000;
  if (!pushResult.ok || pushResult.doc_write_failures > 0) {
    throw new BenchError(`push replication failed: ok=${pushResult.ok}, ` +
      `doc_write_failures=${pushResult.doc_write_failures}, errors=${JSON.stringify(pushResult.errors)}`);
  }
  const remoteCount = await docCount(remote);
  if (remoteCount !== n) {
    throw new BenchError(`after push the remote holds ${remoteCount} documents, expected ${n}`);
  }
  const out = {
    records: n,
    push_seconds: round(pushSeconds, 4),
    push_per_second: round(n / pushSeconds, 1),
  };

  if (pull) {
    const fresh = new PouchDB(path.join(tmpRoot, 'pull'), { adapter: 'leveldb' });
    openDbs.push(fresh);
    t0 = performance.now();
    const pullResult = await doing('pull replication', fresh.replicate.from(remote, replOpts));
    const pullSeconds = (performance.now() - t0) / 1000;
    if (!pullResult.ok || pullResult.doc_write_failures > 0) {
      throw new BenchError(`pull replication failed: ok=${pullResult.ok}, ` +
        `doc_write_failures=${pullResult.doc_write_failures}, errors=${JSON.stringify(pullResult.errors)}`);
    }
    const pulled = await docCount(fresh);
    if (pulled !== n) {
      throw new BenchError(`after pull the local copy holds ${pulled} documents, expected ${n}`);
    }
    out.pull_seconds = round(pullSeconds, 4);
    out.pull_per_second = round(n / pullSeconds, 1);
  }

  out.pouchdb = PouchDB.version;
  out.server = `express-pouchdb@${serverVersion}`;
  return out;
}

const deadline = setTimeout(() => {
  fail(`gave up after ${DEADLINE_SECONDS} s`);
}, DEADLINE_SECONDS * 1000);

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => fail(`stopped by ${sig}`, 130));
}

main().then(
  async (out) => {
    if (finishing) return;
    finishing = true;
    clearTimeout(deadline);
    await cleanup();
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  },
  (err) => {
    clearTimeout(deadline);
    const msg = err instanceof BenchError ? err.message : (err && err.stack) || String(err);
    fail(msg);
  },
);
