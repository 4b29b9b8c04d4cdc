// Outbox: the changes this device has made and not yet had acknowledged, in the order made, and
// the server's refusals of earlier ones (docs/protocol.md, section 6). Changes and refusals are
// sealed like records. LocalStore appends a change in the same transaction as the record it
// changes; the sync engine reads a batch, pushes it, and acknowledges what the server took.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "beatbook/local_store.h"
#include "store_file.h"

namespace beatbook {

class Outbox {
 public:
  explicit Outbox(StoreFile* file) : file_(file) {}

  // Appends a change (a CHANGE of docs/protocol.md without change_id, as JSON text) to record
  // `record_id`, inside the caller's transaction.
  Status Append(const std::string& record_id, const std::string& change_json);
  // The oldest `max` changes. With `parse` false, each entry's `change` is left empty: a push
  // sends the stored text as it is.
  Status Read(std::size_t max, std::vector<OutboxEntry>* out, bool parse);
  // After the server committed a batch: removes the changes `seqs` and keeps `rejected`, in one
  // transaction. A record whose change the server took loses its earlier refusals (it was fixed).
  Status Acknowledge(const std::vector<std::int64_t>& seqs, const std::vector<Rejection>& rejected);
  // Whether the server refused a change to record `id` (it needs fixing).
  Status HasRejections(const std::string& id, bool* any);
  // Every refusal kept, the oldest first.
  Status Rejections(std::vector<Rejection>* out);
  // Drops record `record_id`'s changes and refusals (it is gone from the device), inside the
  // caller's transaction.
  Status Forget(const std::string& record_id);

 private:
  StoreFile* file_;
};

}  // namespace beatbook
