// A tablet that field workers share by shift, each signing in with their own PIN.
//
// Each worker on the tablet has a store of their own, DIR/workers/W/ (a LocalStore: their
// enrolment, credential, records and outbox), and beside it key.json: that store's data key
// wrapped by their PIN (beatbook/key_files.h). So the server sees each worker on the tablet as a
// device of their own, a record is always the signed-in worker's, and a PIN opens one worker's
// records and nobody else's.
//
//   if (UsesPins(dir)) {
//     std::unique_ptr<LocalStore> store;
//     Status s = SignInWorker(dir, pin, {}, &store);  // the worker this PIN belongs to
//   }
//
// Wrong PINs: a wrong PIN is a failed attempt at every worker's store, counted in each worker's key
// file (there is no other file whose deletion resets it). The first tunables::kPinFreeAttempts
// are free; after that the tablet waits kPinBackoffBaseMs, doubling per further failure (up to
// kPinBackoffCapMs), since the last one, while any worker's count calls for it. A right PIN
// clears only its own worker's count: a worker signing in as themselves does not reset the count
// against a colleague whose PIN they are guessing. This slows guessing through the tool; against
// someone with a copy of the files, the Argon2id cost per guess is what counts.
#pragma once

#include <memory>
#include <string>

#include "beatbook/form.h"
#include "beatbook/local_store.h"
#include "beatbook/status.h"

namespace beatbook {

// True if `dir` is a tablet set up with PINs (it has at least one worker).
bool UsesPins(const std::string& dir);

// Checks, before anything that cannot be undone (an enrolment uses up its token), that a new
// worker with `pin` can join the tablet in `dir`: the PIN is long enough and no other worker's,
// and `dir` is not a device set up without PINs.
Status CheckNewWorker(const std::string& dir, const std::string& pin,
                      const LocalStoreOptions& options);

// Adds a worker to the tablet in `dir` (made if missing) with a store for `identity` whose data
// key is wrapped by `pin`, and opens it. Runs CheckNewWorker first.
Status AddWorker(const std::string& dir, const std::string& pin, const Identity& identity,
                 const FormSet& forms, const LocalStoreOptions& options,
                 std::unique_ptr<LocalStore>* out);

// Opens the store of the worker whose PIN this is. PermissionDenied for a PIN that is nobody's
// on this tablet, or while the tablet makes the user wait after wrong PINs (the message says how
// long).
Status SignInWorker(const std::string& dir, const std::string& pin,
                    const LocalStoreOptions& options, std::unique_ptr<LocalStore>* out);

}  // namespace beatbook
