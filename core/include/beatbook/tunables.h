// Every tunable of Beatbook in one place: batch sizes, timeouts and limits, each with why it has
// the value it has. Change them here only; tests may override the ones passed in options structs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace beatbook::tunables {

// --- Device store ---
// Rows written per SQLite transaction by bulk logging. One transaction for the whole import keeps
// it all-or-nothing; this only bounds how many prepared-statement steps run between checks.
inline constexpr std::size_t kBulkLogMaxRecords = 1'000'000;
// SQLite busy timeout: how long a writer waits for another connection's lock before failing.
inline constexpr int kSqliteBusyTimeoutMs = 5'000;

// SQLite page cache per connection, in KiB. Large enough that a 100,000-record bulk log does not
// spill to the WAL mid-transaction, small enough for a tablet (the client's budget is 64 MB).
inline constexpr int kSqliteCacheKiB = 24 * 1024;

// --- Sync (device side) ---
// Changes per push request. A few hundred keeps a request well under the body limit (a change is
// ~0.5-2 KiB) and makes a lost response cheap to redo.
inline constexpr std::size_t kPushBatchSize = 500;
// Records per pull page.
inline constexpr std::size_t kPullPageSize = 1'000;
// libcurl connect timeout: a dead server must be reported "within seconds".
inline constexpr long kConnectTimeoutMs = 3'000;
// libcurl whole-transfer timeout for one request.
inline constexpr long kTransferTimeoutMs = 60'000;
// Retries of one request after a network error or a 5xx, with exponential backoff and full jitter:
// sleep a random time in [0, min(cap, base * 2^attempt)].
inline constexpr int kRetryAttempts = 3;
inline constexpr long kRetryBaseMs = 200;
inline constexpr long kRetryCapMs = 2'000;
// A device asks for a new credential when it syncs and its current one is older than this.
inline constexpr std::int64_t kCredentialMaxAgeMs = 30LL * 24 * 3600 * 1000;
// Longest wait a server's Retry-After may impose on one retry.
inline constexpr long kRetryAfterCapMs = 30'000;

// --- Server ---
// Largest request body accepted (413 beyond it). 16 MiB fits kMaxChangesPerPush large changes.
inline constexpr std::size_t kMaxRequestBodyBytes = 16u << 20;
// Most changes accepted in one push (413 beyond it).
inline constexpr std::size_t kMaxChangesPerPush = 5'000;
// Largest pull page the server returns, whatever the device asks for.
inline constexpr std::size_t kMaxPullLimit = 5'000;
// Time a connection may take to send a whole request, and to stay idle between requests.
inline constexpr int kRequestReadTimeoutSec = 30;
// Lifetime of an enrolment token.
inline constexpr std::int64_t kTokenLifetimeMs = 7LL * 24 * 3600 * 1000;
// Nesting of arrays and objects accepted in a request body (400 beyond it); ours need 6.
inline constexpr int kMaxJsonDepth = 32;
// Requests one device may make per second on average, and at once (429 beyond them). A device
// syncing 100,000 records makes about 15 a second. `sync_server serve --rate-limit` overrides.
inline constexpr double kDeviceRequestsPerSecond = 50;
inline constexpr double kDeviceRequestBurst = 500;
// How long the server keeps a batch's reply for retries under the same batch id; `purge` drops
// older ones (a replay after that still adds nothing: merge is idempotent).
inline constexpr std::int64_t kBatchReplyKeepMs = 90LL * 24 * 3600 * 1000;
// I/O threads of the server.
inline constexpr int kServerThreads = 2;

// --- Values ---
// Longest text accepted for a field that does not set max_length.
inline constexpr std::size_t kDefaultMaxTextLength = 2'000;

}  // namespace beatbook::tunables
