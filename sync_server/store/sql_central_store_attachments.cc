// SqlCentralStore: photos (docs/protocol.md, section 8). An upload arrives in chunks kept per
// device and photo (attachment_parts); the API checks the joined bytes and then stores the
// photo once, however many records name it (attachments), noting each record that does
// (attachment_refs), which retention reads.
#include "beatbook/crypto.h"
#include "beatbook/tunables.h"
#include "sync_server/store/sql_central_store.h"

namespace beatbook::server {

namespace {

// What `device`'s unfinished upload of `name` holds, read in the session's transaction.
Status ReadParts(SqlSession* session, const std::string& device, const std::string& name,
                 UploadProgress* out) {
  out->received = 0;
  out->total = 0;
  return session->Run(
      "SELECT COALESCE(SUM(part_bytes), 0), COALESCE(MAX(total), 0) FROM attachment_parts "
      "WHERE device = $1 AND name = $2",
      {device, name}, [&](const SqlRow& row) {
        out->received = row.Int(0);
        out->total = row.Int(1);
        return Status::OK();
      });
}

Status IsStored(SqlSession* session, const std::string& name, bool* stored) {
  *stored = false;
  return session->Run("SELECT 1 FROM attachments WHERE name = $1", {name}, [&](const SqlRow&) {
    *stored = true;
    return Status::OK();
  });
}

}  // namespace

Status ReplacePhotoRefs(SqlSession* session, const std::string& record_id,
                        const std::vector<std::pair<std::string, std::string>>& photos,
                        std::int64_t at_ms) {
  BB_RETURN_IF_ERROR(session->Run("DELETE FROM attachment_refs WHERE record_id = $1", {record_id}));
  for (const auto& [field, name] : photos) {
    BB_RETURN_IF_ERROR(session->Run(
        "INSERT INTO attachment_refs(name, record_id, field, at_ms) VALUES($1,$2,$3,$4) "
        "ON CONFLICT(name, record_id, field) DO NOTHING",
        {name, record_id, field, at_ms}));
  }
  return Status::OK();
}

Status SqlCentralStore::ReadUploadProgress(const std::string& device_id, const std::string& name,
                                           UploadProgress* out) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin(SqlSession::TxnKind::kSnapshot));
  BB_RETURN_IF_ERROR(IsStored(session_.get(), name, &out->complete));
  if (out->complete) {
    out->received = out->total = 0;
  } else {
    BB_RETURN_IF_ERROR(ReadParts(session_.get(), device_id, name, out));
  }
  return txn.Commit();
}

Status SqlCentralStore::AddUploadPart(const std::string& device_id, const std::string& name,
                                      std::int64_t offset, std::int64_t total,
                                      const std::string& bytes, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  // Two servers taking chunks of one upload at once take turns.
  BB_RETURN_IF_ERROR(session_->LockName("upload:" + device_id + ":" + name));
  UploadProgress held;
  BB_RETURN_IF_ERROR(ReadParts(session_.get(), device_id, name, &held));
  if (offset != held.received) {
    return Status::FailedPrecondition("the server holds " + std::to_string(held.received) +
                                      " bytes of this photo from this device, not " +
                                      std::to_string(offset));
  }
  if (held.received > 0 && held.total != total) {
    return Status::FailedPrecondition("the upload began as " + std::to_string(held.total) +
                                      " bytes, not " + std::to_string(total));
  }
  // A device's unfinished uploads together are bounded: no device can fill the store with
  // photos it never finishes.
  std::int64_t unfinished = 0;
  BB_RETURN_IF_ERROR(
      session_->Run("SELECT COALESCE(SUM(part_bytes), 0) FROM attachment_parts WHERE device = $1",
                    {device_id}, [&](const SqlRow& row) {
                      unfinished = row.Int(0);
                      return Status::OK();
                    }));
  if (unfinished + static_cast<std::int64_t>(bytes.size()) >
      static_cast<std::int64_t>(tunables::kMaxUnfinishedUploadBytes)) {
    return Status::ResourceExhausted("this device has " + std::to_string(unfinished) +
                                     " bytes of photos it has not finished sending; finish those "
                                     "first (at most " +
                                     std::to_string(tunables::kMaxUnfinishedUploadBytes) + ")");
  }
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO attachment_parts(device, name, part_offset, part_bytes, total, content, at_ms) "
      "VALUES($1,$2,$3,$4,$5,$6,$7)",
      {device_id, name, offset, static_cast<std::int64_t>(bytes.size()), total, Base64Encode(bytes),
       at_ms}));
  return txn.Commit();
}

Status SqlCentralStore::ReadUploadParts(const std::string& device_id, const std::string& name,
                                        std::string* bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes->clear();
  return session_->Run(
      "SELECT content FROM attachment_parts WHERE device = $1 AND name = $2 "
      "ORDER BY part_offset",
      {device_id, name}, [&](const SqlRow& row) {
        std::string part;
        if (!Base64Decode(row.Text(0), &part)) {
          return Status::Corruption("a stored chunk of photo " + name + " is not base64");
        }
        *bytes += part;
        return Status::OK();
      });
}

Status SqlCentralStore::StoreAttachment(const std::string& device_id, const std::string& name,
                                        const std::string& record_id, const std::string& field,
                                        const std::string& bytes, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  bool stored = false;
  BB_RETURN_IF_ERROR(IsStored(session_.get(), name, &stored));
  if (!stored) {
    if (bytes.empty()) return Status::NotFound("photo " + name + " is not stored");
    BB_RETURN_IF_ERROR(session_->Run(
        "INSERT INTO attachments(name, bytes, content, stored_ms) VALUES($1,$2,$3,$4) "
        "ON CONFLICT(name) DO NOTHING",
        {name, static_cast<std::int64_t>(bytes.size()), Base64Encode(bytes), at_ms}));
  }
  BB_RETURN_IF_ERROR(session_->Run(
      "INSERT INTO attachment_refs(name, record_id, field, at_ms) VALUES($1,$2,$3,$4) "
      "ON CONFLICT(name, record_id, field) DO NOTHING",
      {name, record_id, field, at_ms}));
  BB_RETURN_IF_ERROR(session_->Run("DELETE FROM attachment_parts WHERE device = $1 AND name = $2",
                                   {device_id, name}));
  return txn.Commit();
}

Status SqlCentralStore::DropUploadParts(const std::string& device_id, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run("DELETE FROM attachment_parts WHERE device = $1 AND name = $2",
                       {device_id, name});
}

Status SqlCentralStore::ReadAttachment(const std::string& name, std::string* bytes, bool* found) {
  std::lock_guard<std::mutex> lock(mu_);
  *found = false;
  std::string text;
  BB_RETURN_IF_ERROR(session_->Run("SELECT content FROM attachments WHERE name = $1", {name},
                                   [&](const SqlRow& row) {
                                     text = row.Text(0);
                                     *found = true;
                                     return Status::OK();
                                   }));
  if (*found && !Base64Decode(text, bytes)) {
    return Status::Corruption("stored photo " + name + " is not base64");
  }
  return Status::OK();
}

Status SqlCentralStore::StoredAttachments(const std::vector<std::string>& names,
                                          std::set<std::string>* out) {
  if (names.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  return session_->Run(
      std::string("SELECT name FROM attachments WHERE name ") + session_->InJsonArray(),
      {nlohmann::json(names).dump()}, [&](const SqlRow& row) {
        out->insert(row.Text(0));
        return Status::OK();
      });
}

Status SqlCentralStore::DropStaleUploads(std::int64_t before_ms, std::int64_t* dropped) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlTransaction txn(session_.get());
  BB_RETURN_IF_ERROR(txn.Begin());
  *dropped = 0;
  // An upload is stale when its newest chunk is.
  BB_RETURN_IF_ERROR(session_->Run(
      "SELECT COUNT(*) FROM (SELECT device, name FROM attachment_parts GROUP BY device, name "
      "HAVING MAX(at_ms) < $1) AS stale",
      {before_ms}, [&](const SqlRow& row) {
        *dropped = row.Int(0);
        return Status::OK();
      }));
  BB_RETURN_IF_ERROR(session_->Run(
      "DELETE FROM attachment_parts WHERE EXISTS (SELECT 1 FROM attachment_parts AS newer "
      "WHERE newer.device = attachment_parts.device AND newer.name = attachment_parts.name "
      "GROUP BY newer.device, newer.name HAVING MAX(newer.at_ms) < $1)",
      {before_ms}));
  return txn.Commit();
}

}  // namespace beatbook::server
