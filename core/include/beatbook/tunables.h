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

// Encryption at rest (beatbook/key_files.h). A worker's PIN is stretched with Argon2id at
// OWASP's recommended minimum for interactive sign-in (19 MiB, 2 passes): tens of milliseconds
// per attempt on a tablet, and far under the client's 64 MB memory budget. A thief with the files
// can still try every PIN offline at that cost each, so a 4-digit PIN protects for hours, not
// years: docs/security.md says to set longer ones.
inline constexpr unsigned long long kPinKdfOpsLimit = 2;
inline constexpr std::size_t kPinKdfMemLimitBytes = 19u << 20;
inline constexpr std::size_t kMinPinLength = 4;
inline constexpr std::size_t kMaxPinLength = 128;
// Wrong PINs on one tablet: this many are free, then each further attempt waits
// kPinBackoffBaseMs doubled per failure beyond them, up to kPinBackoffCapMs.
inline constexpr int kPinFreeAttempts = 5;
inline constexpr std::int64_t kPinBackoffBaseMs = 30'000;
inline constexpr std::int64_t kPinBackoffCapMs = 3'600'000;

// The worker's app (field_client app): signed out after this long without a request on a shared
// tablet; the largest request body it reads (a record with long notes); how long its Sync button
// waits for the server before saying there is no signal.
inline constexpr std::int64_t kAppIdleTimeoutMs = 5LL * 60 * 1000;
inline constexpr std::size_t kMaxAppBodyBytes = 1u << 20;
inline constexpr long kAppSyncTimeoutMs = 20'000;
// Largest draft (its fields as JSON): a form's worth of answers, with room for long notes.
inline constexpr std::size_t kMaxDraftBytes = 256u << 10;

// --- Time ---
// How far ahead of the receiver's clock a stamp or an occurred_at may be. Devices correct their
// clocks by the server's at every sync, so an honest device is within minutes; a day leaves room
// for a tablet whose clock was moved since. A stamp further ahead would win every later write
// (and near 2^63 it overflowed the clocks of every device that pulled it): the server refuses
// such changes, devices do not apply or observe them, and a device clock that is already past it
// starts again from the physical time (docs/protocol.md, section 2).
inline constexpr std::int64_t kMaxClockAheadMs = 24LL * 3600 * 1000;
// The earliest occurred_at accepted (2000-01-01T00:00:00Z): anything earlier is a typing mistake,
// and would fall outside every retention rule and every return.
inline constexpr std::int64_t kEarliestOccurredAtMs = 946'684'800'000;

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
// A safeguarding concern not acknowledged this long after the sync that raised it is flagged on
// the dashboard as overdue (docs/safeguarding.md).
inline constexpr std::int64_t kSafeguardingAcknowledgeHours = 24;
// Longest action text recorded against a safeguarding concern.
inline constexpr std::size_t kMaxSafeguardingActionLength = 2'000;
// Largest request body accepted (413 beyond it). 16 MiB fits kMaxChangesPerPush large changes.
inline constexpr std::size_t kMaxRequestBodyBytes = 16u << 20;
// Most changes accepted in one push (413 beyond it).
inline constexpr std::size_t kMaxChangesPerPush = 5'000;
// Largest pull page the server returns, whatever the device asks for.
inline constexpr std::size_t kMaxPullLimit = 5'000;
// Largest body of a request that is not a push from a recognised device (enrolment, sign-out,
// approval, anything unauthenticated): those need a few hundred bytes, and reading more for a
// stranger is work and memory for nothing.
inline constexpr std::size_t kMaxSmallBodyBytes = 64u << 10;
// Bodies at least this large go gzip-compressed when the other side accepts it (requests from
// field_client, replies from the server); smaller ones are not worth gzip's header and the CPU.
// A compressed request may inflate to the same body limit as an uncompressed one, no further.
inline constexpr std::size_t kGzipMinBytes = 1024;
// zlib's level for those bodies (1 fastest .. 9 smallest). Records repeat their keys and device
// ids, which the fastest level finds too: on the benchmark's records level 1 sends 12% (push) and
// 9% (pull) of the uncompressed bytes where zlib's default (6) sent 10% and 7%, for about a third
// of the CPU; and the server compresses every pull page of every device, so under the 500-device
// load level 6 took about 40% of the server's CPU (docs/performance.md, "Bytes on the wire").
inline constexpr int kGzipLevel = 1;
// Largest request header (Beast's default is 8 KiB; a long bearer credential fits).
inline constexpr std::size_t kMaxRequestHeaderBytes = 16u << 10;
// Open connections the server keeps, in total (and never more than its open-file limit allows,
// less kReservedFileDescriptors for the store's files and the listener), and per client address.
// A load balancer in front makes every connection come from its address: raise the second with
// `sync_server serve --max-connections-per-address` there (docs/deployment.md).
inline constexpr std::size_t kMaxConnections = 10'000;
inline constexpr std::size_t kMaxConnectionsPerAddress = 256;
inline constexpr std::size_t kReservedFileDescriptors = 64;
// Time a connection may take to send a whole request, and to stay idle between requests.
inline constexpr int kRequestReadTimeoutSec = 30;
// On SIGTERM the server stops accepting, closes idle connections and lets requests in flight
// finish for at most this long before it exits (a push is then committed and answered, or not
// applied). The systemd unit's TimeoutStopSec leaves room for it (packaging/).
inline constexpr int kShutdownGraceSec = 10;
// Dashboard sign-ins end after this long without a request, and this long after they began,
// whatever their use: a screen left open in an office does not stay signed in (docs/security.md).
inline constexpr std::int64_t kDashboardSessionIdleMs = 30LL * 60 * 1000;
inline constexpr std::int64_t kDashboardSessionMaxMs = 12LL * 3600 * 1000;
// A device credential not used (no sync) for this long is refused (401 credential_expired) until
// `sync_server renew` renews it: a tablet lost in a drawer stops being a key to the data. Half a
// year leaves room for seasonal work. `sync_server serve --device-expiry-days` overrides (0:
// never).
inline constexpr std::int64_t kDeviceCredentialIdleMs = 180LL * 24 * 3600 * 1000;
// How often a dashboard sign-in's last use is written (it is read for the idle limit).
inline constexpr std::int64_t kSessionTouchEveryMs = 60'000;
// Lifetime of an enrolment token.
inline constexpr std::int64_t kTokenLifetimeMs = 7LL * 24 * 3600 * 1000;
// Nesting of arrays and objects accepted in a request body (400 beyond it); ours need 6.
inline constexpr int kMaxJsonDepth = 32;
// Requests one device may make per second on average, and at once (429 beyond them). A device
// syncing 100,000 records makes about 15 a second. `sync_server serve --rate-limit` overrides.
inline constexpr double kDeviceRequestsPerSecond = 50;
inline constexpr double kDeviceRequestBurst = 500;
// Failed sign-ins (a wrong credential, or a used, expired or unknown token) one client address
// may make at once, and per second after that (429 beyond them). A device retrying with a stale
// credential fails a handful of times; guessing needs millions. Every failure costs a hash and a
// lookup, so this also caps the work an unauthenticated client can cause. Right credentials are
// never limited by it (only by the device's own bucket above).
inline constexpr double kAddressFailedSignInBurst = 20;
inline constexpr double kAddressFailedSignInsPerSecond = 0.5;
// Keys (devices, addresses) a rate limiter tracks before forgetting the ones that are idle.
inline constexpr std::size_t kMaxRateLimitKeys = 100'000;
// How long the server keeps a batch's reply for retries under the same batch id; `purge` drops
// older ones (a replay after that still adds nothing: merge is idempotent).
inline constexpr std::int64_t kBatchReplyKeepMs = 90LL * 24 * 3600 * 1000;
// I/O threads of the server.
inline constexpr int kServerThreads = 2;

// --- XLSForm import (sync_server forms import) ---
// An .xlsx file is a zip: each part (a sheet, the shared strings) is unpacked in memory, and a
// few kilobytes can unpack to gigabytes. A form of a few hundred questions is well under 1 MiB
// unpacked; these leave room for long translated texts and refuse a zip bomb early.
inline constexpr std::size_t kMaxXlsxPartBytes = 16u << 20;
inline constexpr std::size_t kMaxXlsxFileBytes = 32u << 20;
// Text in all cells together, counting a shared text once per cell that shows it (one long text
// pointed to by many cells would otherwise multiply).
inline constexpr std::size_t kMaxXlsxTextBytes = 32u << 20;
// Rows of one sheet. The data dictionary's longest form has 12 questions; a choices sheet with
// every code list of the plan has a few hundred.
inline constexpr std::size_t kMaxXlsFormRows = 10'000;
// Sheets of one workbook (XLSForm uses three; each sheet is parsed, so this bounds the work).
inline constexpr std::size_t kMaxXlsxSheets = 50;
// Columns of one sheet (a form in several languages has a label and hint column per language).
inline constexpr std::size_t kMaxXlsFormColumns = 200;

// --- The dashboard's Places tab (GET /v1/hotspots) ---
// Counts per place the board sees: fewer than this (but not none) is shown as "fewer than 5",
// so that one contact at one place in one quarter cannot point to a person. The usual threshold
// of official statistics on small areas; the coordinator sees the counts as they are.
inline constexpr std::int64_t kMinPlaceCountShown = 5;

// --- Values ---
// Longest text accepted for a field that does not set max_length.
inline constexpr std::size_t kDefaultMaxTextLength = 2'000;
// The least accurate location a geopoint may hold, in metres. A phone indoors without GPS
// places itself by mobile masts to within a few kilometres; anything beyond 100 km is a broken
// reading, not a place.
inline constexpr double kMaxGeopointAccuracyM = 100'000;
// Longest answer a place question (one offering the named places) may take: a line, which the
// app shows as a one-line box with suggestions.
inline constexpr std::size_t kMaxPlaceLength = 200;

// --- Attachments (photos; docs/protocol.md, section 8) ---
// Largest photo a question takes: a tablet camera's full-size JPEG is 2 to 6 MiB.
inline constexpr std::size_t kMaxAttachmentBytes = 10u << 20;
// One upload request's share of a photo: small enough that a cut link on weak signal loses
// little, large enough that a 5 MiB photo is 20 requests.
inline constexpr std::size_t kAttachmentChunkBytes = 256u << 10;
// A device's unfinished uploads together, at most: two photos' worth.
inline constexpr std::size_t kMaxUnfinishedUploadBytes = 2 * kMaxAttachmentBytes;
// Unfinished uploads untouched for this long are dropped by `sync_server purge`.
inline constexpr std::int64_t kAttachmentPartKeepMs = 7LL * 24 * 3600 * 1000;
// Largest image, in pixels each way, a photo may claim (a hostile header could claim 2^31).
inline constexpr int kMaxImageSide = 20'000;

}  // namespace beatbook::tunables
