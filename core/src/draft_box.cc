#include "draft_box.h"

#include "beatbook/crypto.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace {

json DraftContent(const Draft& d) {
  json j = {{"fields", d.fields}};
  if (d.occurred_at) j["occurred_at"] = *d.occurred_at;
  return j;
}

}  // namespace

Status DraftBox::Save(const Draft& draft, std::int64_t now_ms, std::string* id) {
  const FormDef* form = forms_->Latest(draft.form);
  if (form == nullptr) return Status::InvalidArgument("unknown form '" + draft.form + "'");
  if (!draft.fields.is_object())
    return Status::InvalidArgument("a draft's fields must be an object");
  for (const auto& [name, value] : draft.fields.items()) {
    if (!form->Find(name)) {
      return Status::InvalidArgument("field '" + name + "' is not a field of form '" + draft.form +
                                     "'");
    }
  }
  std::string content = DraftContent(draft).dump();
  if (content.size() > tunables::kMaxDraftBytes) {
    return Status::InvalidArgument("the draft is " + std::to_string(content.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(tunables::kMaxDraftBytes));
  }
  std::string draft_id = draft.id.empty() ? NewUuid() : draft.id;
  if (!draft.id.empty()) {
    Draft existing;
    BB_RETURN_IF_ERROR(Get(draft.id, &existing));
    if (existing.form != draft.form) {
      return Status::InvalidArgument("draft " + draft.id + " is a " + existing.form + ", not a " +
                                     draft.form);
    }
  }
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached(
      "INSERT OR REPLACE INTO drafts(id, form, updated_ms, content) VALUES(?, ?, ?, ?)", &st));
  st->Bind(1, draft_id);
  st->Bind(2, draft.form);
  st->Bind(3, now_ms);
  st->BindBlob(4, file_->Seal(content, "draft:" + draft_id));
  BB_RETURN_IF_ERROR(st->Run());
  *id = draft_id;
  return Status::OK();
}

Status DraftBox::List(std::vector<Draft>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare(
      "SELECT id, form, updated_ms, content FROM drafts ORDER BY updated_ms DESC, id", &st));
  SqliteStmt::StepResult r;
  while ((r = st.Step()) == SqliteStmt::kRow) {
    Draft d;
    d.id = st.ColumnText(0);
    d.form = st.ColumnText(1);
    d.updated_ms = st.ColumnInt(2);
    std::string plain;
    BB_RETURN_IF_ERROR(file_->Unseal(st.ColumnText(3), "draft:" + d.id, &plain));
    json content = json::parse(plain, nullptr, false);
    if (!content.is_object()) return Status::Corruption("draft " + d.id + " is unreadable");
    d.fields = content.value("fields", json::object());
    if (content.contains("occurred_at")) d.occurred_at = content["occurred_at"].get<std::string>();
    out->push_back(std::move(d));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st.LastError();
}

Status DraftBox::Get(const std::string& id, Draft* out) {
  std::vector<Draft> all;
  BB_RETURN_IF_ERROR(List(&all));
  for (auto& d : all) {
    if (d.id == id) {
      *out = std::move(d);
      return Status::OK();
    }
  }
  return Status::NotFound("no draft with id '" + id + "' on this device");
}

Status DraftBox::Delete(const std::string& id) {
  SqliteStmt* st;
  BB_RETURN_IF_ERROR(file_->db().Cached("DELETE FROM drafts WHERE id = ?", &st));
  st->Bind(1, id);
  BB_RETURN_IF_ERROR(st->Run());
  if (file_->db().ChangesCount() == 0)
    return Status::NotFound("no draft with id '" + id + "' on this device");
  return Status::OK();
}

}  // namespace beatbook
