#include "attachment_box.h"

#include "beatbook/crypto.h"

namespace beatbook {

namespace {

std::string Context(const std::string& name) { return "attachment:" + name; }

}  // namespace

Status AttachmentBox::Add(const PreparedAttachment& photo, std::int64_t now_ms) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached(
      "INSERT INTO attachments(name, bytes, added_ms, uploaded, content) VALUES(?, ?, ?, 0, ?) "
      "ON CONFLICT(name) DO NOTHING",
      &st));
  st->Bind(1, photo.name);
  st->Bind(2, static_cast<std::int64_t>(photo.bytes.size()));
  st->Bind(3, now_ms);
  st->BindBlob(4, file_->Seal(photo.bytes, Context(photo.name)));
  return st->Run();
}

Status AttachmentBox::Read(const std::string& name, std::string* bytes) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("SELECT content FROM attachments WHERE name = ?", &st));
  st->Bind(1, name);
  SqliteStmt::StepResult r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  if (r == SqliteStmt::kDone) {
    st->Reset();
    return Status::NotFound("this device does not hold the photo " + name);
  }
  std::string sealed = st->ColumnText(0);
  st->Reset();
  std::string plain;
  if (!file_->Unseal(sealed, Context(name), &plain).ok() ||
      Sha256Hex(plain) != name.substr(0, 64)) {
    return Status::Corruption("the photo " + name +
                              " is damaged on this device (it was changed after it was taken)");
  }
  *bytes = std::move(plain);
  return Status::OK();
}

Status AttachmentBox::Find(const std::string& name, bool* held, bool* uploaded) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("SELECT uploaded FROM attachments WHERE name = ?", &st));
  st->Bind(1, name);
  SqliteStmt::StepResult r = st->Step();
  if (r == SqliteStmt::kError) return st->LastError();
  *held = r == SqliteStmt::kRow;
  *uploaded = *held && st->ColumnInt(0) != 0;
  st->Reset();
  return Status::OK();
}

Status AttachmentBox::MarkUploaded(const std::string& name) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("UPDATE attachments SET uploaded = 1 WHERE name = ?", &st));
  st->Bind(1, name);
  return st->Run();
}

Status AttachmentBox::Names(std::vector<std::string>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare("SELECT name FROM attachments ORDER BY added_ms", &st));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) out->push_back(st.ColumnText(0));
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

Status AttachmentBox::Prune(const std::set<std::string>& keep, std::int64_t* removed) {
  std::vector<std::string> names;
  BB_RETURN_IF_ERROR(Names(&names));
  *removed = 0;
  for (const auto& name : names) {
    if (keep.count(name)) continue;
    SqliteStmt* st;
    BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM attachments WHERE name = ?", &st));
    st->Bind(1, name);
    BB_RETURN_IF_ERROR(st->Run());
    ++*removed;
  }
  return Status::OK();
}

bool AttachmentBox::Empty() {
  SqliteStmt* st;
  if (!file_->db().Cached("SELECT 1 FROM attachments LIMIT 1", &st).ok()) return false;
  bool empty = st->Step() != SqliteStmt::kRow;
  st->Reset();
  return empty;
}

}  // namespace beatbook
