// Helpers shared by field_client's commands: opening the store, reporting errors, printing.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "beatbook/local_store.h"
#include "beatbook/status.h"

namespace field_client {

// Exit codes: scripts can tell a bad input from a network problem.
enum ExitCode {
  kExitOk = 0,
  kExitError = 1,        // bad input, or a stored-data problem; nothing was changed
  kExitUnavailable = 3,  // the server could not be reached; everything is kept for the next try
  kExitRefused = 4,      // the server refused this device (credential, revoked)
};

// Prints "field_client: MESSAGE" on stderr and returns the exit code for `s`.
int Fail(const beatbook::Status& s);
int Fail(const std::string& message);

// Opens the device store in `dir`. On a tablet set up with PINs, signs in the worker whose PIN
// ReadPin gives (beatbook/shared_tablet.h); a device without PINs opens unattended.
beatbook::Status OpenStore(const std::string& dir, std::unique_ptr<beatbook::LocalStore>* out);

// A worker's PIN: $FIELD_CLIENT_PIN if set, else asked on the terminal without echo (twice if
// `confirm`). FailedPrecondition if there is neither.
beatbook::Status ReadPin(const std::string& prompt, bool confirm, std::string* pin);
// Whether `init` sets up a worker with a PIN: with --pin, or FIELD_CLIENT_PIN set.
bool InitWantsPin(bool pin_flag);
// Before `init` does anything irreversible: reads the new worker's PIN if there is to be one
// (*pin stays empty for a device without PINs) and checks the store can be made in `dir`.
beatbook::Status PrepareNewStore(const std::string& dir, bool pin_flag, std::string* pin);
// Makes the store: a new worker on a PIN tablet if `pin` is set, else a device without PINs.
beatbook::Status CreateStore(const std::string& dir, const std::string& pin,
                             const beatbook::Identity& identity, const beatbook::FormSet& forms,
                             std::unique_ptr<beatbook::LocalStore>* out);

// The schema directory: --schema if given, else $BEATBOOK_SCHEMA, else the one built in.
std::string SchemaDir(const std::string& flag);

// Prints rows as a table with a header, columns padded to their widest cell.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// "2023-06-01 21:15 UTC" from epoch ms, or "never" for 0.
std::string HumanTime(std::int64_t epoch_ms);

// Turns --set FIELD=VALUE arguments into typed values for `form` (an empty VALUE is null: cleared).
beatbook::Status ParseSets(const beatbook::FormDef& form, const std::vector<std::string>& sets,
                           beatbook::json* out);

// Where a photo a record names is, for people: "uploaded", "not uploaded yet" or "taken on
// another device" (commands_photos.cc).
std::string PhotoStateText(beatbook::LocalStore* store, const std::string& name);

}  // namespace field_client
