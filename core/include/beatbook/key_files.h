// Where a device store's data key (beatbook/data_key.h) is kept. Never in clear beside the data:
//
// - A worker's PIN wraps it. The key file holds the key sealed under a key derived from the PIN
//   with Argon2id (memory-hard, so every guess costs tunables::kPinKdfMemLimitBytes and real
//   time), plus the salt and cost used. It sits in the worker's store directory: without the PIN
//   it says nothing. See beatbook/shared_tablet.h.
//
// - A device set up without PINs runs unattended, so its key must be readable without asking
//   anyone: it lives in a key file in the device account's key directory, outside the data
//   directory (0700, file 0600), named by the store's random id. Copying the data directory (a
//   backup, an SD card, a file share) then reveals nothing; someone holding the whole unlocked
//   account does get it, which docs/security.md states.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/data_key.h"
#include "beatbook/status.h"

namespace beatbook {

// --- PIN-wrapped keys ---
// InvalidArgument unless `pin` is tunables::kMinPinLength to kMaxPinLength characters.
Status CheckPin(const std::string& pin);
// The key file for `key` under `pin`, with a fresh salt and the tunables' Argon2id cost.
Status WrapKeyWithPin(const DataKey& key, const std::string& pin, nlohmann::json* key_file);
// PermissionDenied if `pin` is not the one the key was wrapped with; Corruption if the file is
// malformed.
Status UnwrapKeyWithPin(const nlohmann::json& key_file, const std::string& pin, DataKey* key);

// --- Key files outside the data directory (devices without PINs) ---
// $BEATBOOK_KEY_DIR, else $XDG_DATA_HOME/beatbook/keys, else $HOME/.local/share/beatbook/keys.
std::string DeviceKeyDir();
// Writes a new key file for store `store_id` (made of letters, digits and '-'); AlreadyExists if
// there is one.
Status SaveDeviceKey(const std::string& store_id, const DataKey& key);
// NotFound (saying where it looked) if the store's key file is missing.
Status LoadDeviceKey(const std::string& store_id, DataKey* key);
// Removes the key file, if any (after a remote wipe: the key has nothing left to open).
void DeleteDeviceKey(const std::string& store_id);

// Writes `text` to `path` with mode 0600 through a temporary file and rename, synced to disk.
Status WritePrivateFile(const std::string& path, const std::string& text);

}  // namespace beatbook
