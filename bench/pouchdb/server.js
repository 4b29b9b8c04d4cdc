'use strict';
// A CouchDB-style peer for the benchmarks: a PouchDB HTTP server (express-pouchdb, the server
// half of pouchdb-server) speaking the CouchDB replication protocol, stored in LevelDB.
//   node server.js PORT DATA_DIR      (PORT 0: pick a free one)
// Listens on 127.0.0.1 only, prints exactly one line "listening PORT" on stdout when ready and
// nothing else there (no request log); exits on SIGTERM or SIGINT. With BEATBOOK_EXIT_ON_STDIN_END=1
// it also exits when its standard input closes, so a benchmark that dies cannot leave it running.

const fs = require('fs');
const path = require('path');

function usage(msg) {
  process.stderr.write(`server.js: ${msg}\nusage: node server.js PORT DATA_DIR\n`);
  process.exit(2);
}

const port = Number(process.argv[2]);
const dataDir = process.argv[3];
if (process.argv[2] === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
  usage('PORT must be an integer 0..65535');
}
if (!dataDir) usage('DATA_DIR is missing');

// Stdout carries the one "listening" line; anything a library prints goes to stderr.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

const express = require('express');
const PouchDB = require('pouchdb');
const expressPouchDB = require('express-pouchdb');

fs.mkdirSync(dataDir, { recursive: true });
// Every database the server opens lives under DATA_DIR (LevelDB, PouchDB's Node adapter).
const ServerPouchDB = PouchDB.defaults({ prefix: path.resolve(dataDir) + path.sep });

const app = express();
app.disable('x-powered-by');
// minimumForPouchDB: the routes replication needs (db, _bulk_docs, _bulk_get, _changes,
// _revs_diff, _all_docs, _local checkpoints...), no config file, log file, request log, auth or
// Fauxton. Responses are gzipped when the client asks, as express-pouchdb does by default.
app.use(expressPouchDB(ServerPouchDB, { mode: 'minimumForPouchDB' }));

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  if (server.closeAllConnections) server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (process.env.BEATBOOK_EXIT_ON_STDIN_END === '1') {
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
