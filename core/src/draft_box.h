// DraftBox: drafts, incomplete records a worker keeps on the device to finish later. Sealed like
// records (the form name and the time saved stay readable, for listing), never in the outbox,
// never counted. LocalStore holds one and finishes a draft with LogFromDraft, which stores the
// record and deletes the draft in one transaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "beatbook/form.h"
#include "beatbook/local_store.h"
#include "store_file.h"

namespace beatbook {

class DraftBox {
 public:
  // `forms` are the device's, as they are when each call is made (the store replaces them).
  DraftBox(StoreFile* file, const FormSet* forms) : file_(file), forms_(forms) {}

  // Saves `draft` at `now_ms` (a new one when draft.id is empty: *id gets its id; else it
  // replaces that draft). The form must be one this device has; fields must be an object of
  // this form's fields, within tunables::kMaxDraftBytes.
  Status Save(const Draft& draft, std::int64_t now_ms, std::string* id);
  // Every draft, the most recently saved first.
  Status List(std::vector<Draft>* out);
  // NotFound if there is no such draft.
  Status Get(const std::string& id, Draft* out);
  Status Delete(const std::string& id);

 private:
  StoreFile* file_;
  const FormSet* forms_;
};

}  // namespace beatbook
