// LocalStore's photos: the AttachmentBox (attachment_box.h) keeps them; this file ties them to
// forms, records and the outbox.
#include <set>

#include "attachment_box.h"
#include "beatbook/local_store.h"
#include "store_file.h"

namespace beatbook {

namespace {

// The photo names `fields` hold in `form`'s image questions.
void PhotoNames(const FormDef& form, const json& fields, std::set<std::string>* out) {
  if (!fields.is_object()) return;
  for (const auto& f : form.fields) {
    if (f.type != FieldType::kImage) continue;
    auto it = fields.find(f.name);
    if (it != fields.end() && it->is_string()) out->insert(it->get<std::string>());
  }
}

json FieldValues(const RecordState& state) {
  json values = json::object();
  for (const auto& [name, reg] : state.fields) values[name] = reg.v;
  return values;
}

}  // namespace

const char* AttachmentStateName(AttachmentState state) {
  switch (state) {
    case AttachmentState::kUploaded:
      return "uploaded";
    case AttachmentState::kWaiting:
      return "waiting";
    case AttachmentState::kElsewhere:
      return "elsewhere";
  }
  return "?";
}

Status LocalStore::AddAttachment(const std::string& form_name, const std::string& field,
                                 const std::string& bytes, std::string* name) {
  const FormDef* form = forms_.Latest(form_name);
  if (form == nullptr) return Status::InvalidArgument("unknown form '" + form_name + "'");
  const FieldDef* f = form->Find(field);
  if (f == nullptr || f->type != FieldType::kImage) {
    return Status::InvalidArgument("'" + field + "' is not a photo question of form '" + form_name +
                                   "'");
  }
  PreparedAttachment photo;
  Status s = PrepareAttachment(bytes, f->keep_location, &photo);
  if (!s.ok()) return Status::InvalidArgument("field '" + field + "': " + s.message());
  BB_RETURN_IF_ERROR(attachments_->Add(photo, clock_->NowMs()));
  *name = photo.name;
  return Status::OK();
}

Status LocalStore::Attach(const std::string& id, const std::string& field, const std::string& bytes,
                          std::string* name) {
  RecordState state;
  BB_RETURN_IF_ERROR(Get(id, &state));
  const FormDef* form = forms_.Find(state.form, state.form_version);
  if (form == nullptr) {
    return Status::FailedPrecondition("this device lacks version " +
                                      std::to_string(state.form_version) + " of form '" +
                                      state.form + "'; sync first");
  }
  const FieldDef* f = form->Find(field);
  if (f == nullptr || f->type != FieldType::kImage) {
    return Status::InvalidArgument("'" + field + "' is not a photo question of record " + id +
                                   " (a " + state.form + ")");
  }
  PreparedAttachment photo;
  Status s = PrepareAttachment(bytes, f->keep_location, &photo);
  if (!s.ok()) return Status::InvalidArgument("field '" + field + "': " + s.message());
  BB_RETURN_IF_ERROR(attachments_->Add(photo, clock_->NowMs()));
  // Two steps: a photo kept whose edit then fails is named by nothing, and the next prune
  // deletes it.
  Status edited = Edit(id, json{{field, photo.name}}, std::nullopt);
  if (!edited.ok()) {
    PruneAttachments().ok();  // best effort: the next prune does it otherwise
    return edited;
  }
  *name = photo.name;
  return Status::OK();
}

Status LocalStore::ReadAttachment(const std::string& name, std::string* bytes) {
  return attachments_->Read(name, bytes);
}

Status LocalStore::GetAttachmentState(const std::string& name, AttachmentState* state) {
  bool held = false, uploaded = false;
  BB_RETURN_IF_ERROR(attachments_->Find(name, &held, &uploaded));
  *state = !held ? AttachmentState::kElsewhere
                 : (uploaded ? AttachmentState::kUploaded : AttachmentState::kWaiting);
  return Status::OK();
}

Status LocalStore::CheckPhotosHeld(const FormDef& form, const json& fields) {
  std::set<std::string> names;
  PhotoNames(form, fields, &names);
  for (const auto& name : names) {
    bool held = false, uploaded = false;
    BB_RETURN_IF_ERROR(attachments_->Find(name, &held, &uploaded));
    if (!held) {
      return Status::InvalidArgument("the photo " + name +
                                     " is not on this device: attach the file instead "
                                     "(field_client attach)");
    }
  }
  return Status::OK();
}

Status LocalStore::AttachmentsToUpload(std::vector<AttachmentUpload>* out,
                                       bool synced_records_only) {
  if (attachments_->Empty()) return Status::OK();
  std::vector<RecordState> records;
  BB_RETURN_IF_ERROR(List("", &records));
  std::set<std::string> pending;  // records with changes the server may not have yet
  {
    SqliteStmt st;
    BB_RETURN_IF_ERROR(file_->db().Prepare("SELECT DISTINCT record_id FROM outbox", &st));
    SqliteStmt::StepResult r;
    while ((r = st.Step()) == SqliteStmt::kRow) pending.insert(st.ColumnText(0));
    if (r != SqliteStmt::kDone) return st.LastError();
  }
  if (!synced_records_only) pending.clear();
  std::set<std::string> queued;  // a photo in two records goes up once
  for (const auto& record : records) {
    const FormDef* form = forms_.Find(record.form, record.form_version);
    if (form == nullptr) continue;
    for (const auto& f : form->fields) {
      if (f.type != FieldType::kImage) continue;
      auto it = record.fields.find(f.name);
      if (it == record.fields.end() || !it->second.v.is_string()) continue;
      const std::string name = it->second.v.get<std::string>();
      bool held = false, uploaded = false;
      BB_RETURN_IF_ERROR(attachments_->Find(name, &held, &uploaded));
      if (!held || uploaded || queued.count(name) || pending.count(record.id)) continue;
      queued.insert(name);
      out->push_back({name, record.id, f.name});
    }
  }
  return Status::OK();
}

Status LocalStore::MarkAttachmentUploaded(const std::string& name) {
  return attachments_->MarkUploaded(name);
}

Status LocalStore::PruneAttachments(std::int64_t* removed) {
  std::int64_t count = 0;
  if (removed) *removed = 0;
  if (attachments_->Empty()) return Status::OK();
  std::set<std::string> keep;
  std::vector<RecordState> records;
  BB_RETURN_IF_ERROR(List("", &records));
  for (const auto& record : records) {
    if (const FormDef* form = forms_.Find(record.form, record.form_version)) {
      PhotoNames(*form, FieldValues(record), &keep);
    }
  }
  std::vector<Draft> drafts;
  BB_RETURN_IF_ERROR(ListDrafts(&drafts));
  for (const auto& draft : drafts) {
    if (const FormDef* form = forms_.Latest(draft.form)) PhotoNames(*form, draft.fields, &keep);
  }
  BB_RETURN_IF_ERROR(attachments_->Prune(keep, &count));
  if (removed) *removed = count;
  return Status::OK();
}

}  // namespace beatbook
