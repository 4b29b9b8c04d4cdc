// LocalStore's photos: the AttachmentBox (attachment_box.h) keeps them; this file ties them to
// forms, records and the outbox.
#include <set>

#include "attachment_box.h"
#include "beatbook/local_store.h"
#include "store_file.h"

namespace beatbook {

namespace {

// The photo names `values` give `form`'s image questions, added to `out`.
void AddPhotoNames(const FormDef& form, const json& values, std::set<std::string>* out) {
  for (const auto& [field, name] : form.PhotosIn(values)) out->insert(name);
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

Status LocalStore::KeepPhoto(const FormDef& form, const std::string& field,
                             const std::string& bytes, const std::string& where,
                             std::string* name) {
  const FieldDef* f = form.Find(field);
  if (f == nullptr || f->type != FieldType::kImage) {
    return Status::InvalidArgument("'" + field + "' is not a photo question of " + where);
  }
  PreparedAttachment photo;
  Status s = PrepareAttachment(bytes, f->keep_location, &photo);
  if (!s.ok()) return Status::InvalidArgument("field '" + field + "': " + s.message());
  BB_RETURN_IF_ERROR(attachments_->Add(photo, clock_->NowMs()));
  *name = photo.name;
  return Status::OK();
}

Status LocalStore::AddAttachment(const std::string& form_name, const std::string& field,
                                 const std::string& bytes, std::string* name) {
  const FormDef* form = forms_.Latest(form_name);
  if (form == nullptr) return Status::InvalidArgument("unknown form '" + form_name + "'");
  return KeepPhoto(*form, field, bytes, "form '" + form_name + "'", name);
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
  std::string kept;
  BB_RETURN_IF_ERROR(
      KeepPhoto(*form, field, bytes, "record " + id + " (a " + state.form + ")", &kept));
  // Two steps: a photo kept whose edit then fails is named by nothing, and the next prune
  // deletes it.
  Status edited = Edit(id, json{{field, kept}}, std::nullopt);
  if (!edited.ok()) {
    PruneAttachments().ok();  // best effort: the next prune does it otherwise
    return edited;
  }
  *name = kept;
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

Status LocalStore::PhotoStates(const RecordState& record,
                               std::map<std::string, AttachmentState>* out) {
  const FormDef* form = forms_.Find(record.form, record.form_version);
  if (form == nullptr || !form->HasImageField()) return Status::OK();
  for (const auto& [field, name] : form->PhotosIn(record.FieldValues())) {
    BB_RETURN_IF_ERROR(GetAttachmentState(name, &(*out)[name]));
  }
  return Status::OK();
}

Status LocalStore::CheckPhotosHeld(const FormDef& form, const json& fields) {
  for (const auto& [field, name] : form.PhotosIn(fields)) {
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
                                       std::int64_t* not_uploaded) {
  if (not_uploaded) *not_uploaded = 0;
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
  std::set<std::string> queued;  // a photo in two records goes up once
  for (const auto& record : records) {
    const FormDef* form = forms_.Find(record.form, record.form_version);
    if (form == nullptr || !form->HasImageField()) continue;
    for (const auto& [field, name] : form->PhotosIn(record.FieldValues())) {
      bool held = false, uploaded = false;
      BB_RETURN_IF_ERROR(attachments_->Find(name, &held, &uploaded));
      if (!held || uploaded || !queued.insert(name).second) continue;
      if (not_uploaded) ++*not_uploaded;
      if (!pending.count(record.id)) out->push_back({name, record.id, field});
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
      AddPhotoNames(*form, record.FieldValues(), &keep);
    }
  }
  std::vector<Draft> drafts;
  BB_RETURN_IF_ERROR(ListDrafts(&drafts));
  for (const auto& draft : drafts) {
    if (const FormDef* form = forms_.Latest(draft.form)) AddPhotoNames(*form, draft.fields, &keep);
  }
  BB_RETURN_IF_ERROR(attachments_->Prune(keep, &count));
  if (removed) *removed = count;
  return Status::OK();
}

}  // namespace beatbook
