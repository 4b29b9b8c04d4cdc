// LocalStore, its records: logging (one or in bulk), edits, deletes and reads, with the checks the
// core makes before anything is stored.
#include "beatbook/local_store.h"

#include <filesystem>
#include <set>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/key_files.h"
#include "beatbook/permissions.h"
#include "beatbook/record_rows.h"
#include "beatbook/return_checks.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"
#include "local_store_internal.h"
#include "outbox.h"
#include "store_file.h"

namespace beatbook {

namespace fs = std::filesystem;
using local_store_internal::IdentityToJson;
using local_store_internal::MetaInt;

namespace {

bool IsValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string Summarise(const std::vector<std::string>& errors) {
  std::string msg;
  const size_t kShown = 5;
  for (size_t i = 0; i < errors.size() && i < kShown; ++i) msg += (i ? "; " : "") + errors[i];
  if (errors.size() > kShown) msg += "; and " + std::to_string(errors.size() - kShown) + " more";
  return msg;
}

}  // namespace

Status RecordInput::FromJson(const json& j, const std::string& where, RecordInput* out) {
  if (!j.is_object()) return Status::InvalidArgument(where + ": a record must be a JSON object");
  RecordInput in;
  auto opt_str = [&](const char* key, std::optional<std::string>* dst) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::OK();
    if (!it->is_string()) {
      return Status::InvalidArgument(where + ": \"" + key + "\" must be a string, not " +
                                     it->dump());
    }
    *dst = it->get<std::string>();
    return Status::OK();
  };
  auto form = j.find("form");
  if (form == j.end() || !form->is_string()) {
    return Status::InvalidArgument(where + ": \"form\" is required and must be a string");
  }
  in.form = form->get<std::string>();
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_object()) {
    return Status::InvalidArgument(where + ": \"fields\" is required and must be an object");
  }
  in.fields = *fields;
  BB_RETURN_IF_ERROR(opt_str("occurred_at", &in.occurred_at));
  BB_RETURN_IF_ERROR(opt_str("id", &in.id));
  BB_RETURN_IF_ERROR(opt_str("org", &in.org));
  BB_RETURN_IF_ERROR(opt_str("author", &in.author));
  BB_RETURN_IF_ERROR(opt_str("device", &in.device));
  static const std::set<std::string> kKnown = {"id",     "form",   "form_version", "org",
                                               "author", "device", "occurred_at",  "fields"};
  for (const auto& [key, value] : j.items()) {
    if (!kKnown.count(key))
      return Status::InvalidArgument(where + ": unknown member \"" + key + "\"");
  }
  *out = std::move(in);
  return Status::OK();
}

Status LocalStore::CheckReturn(const FormDef& form, const std::string& record_org,
                               const json& fields, std::int64_t now_ms) {
  if (std::string why = WhyReturnPeriodRefused(forms_, form.name, form.version, fields, now_ms);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  std::string why;
  BB_RETURN_IF_ERROR(FigureCheck(form, record_org, fields, &why));
  if (why.empty()) return Status::OK();
  return Status::InvalidArgument(
      why + ": check it, and if it is right confirm it (--confirm-unusual, or tick 'I have " +
      "checked this figure')");
}

Status LocalStore::FigureCheck(const FormDef& form, const std::string& record_org,
                               const json& fields, std::string* why) {
  Status read = Status::OK();
  auto figure_of = [&](const std::string& id, double* value) {
    RecordState earlier;
    bool found = false;
    if (Status s = LoadState(id, &earlier, &found); !s.ok()) {
      read = s;
      return false;
    }
    if (!found || earlier.IsDeleted()) return false;
    json v = earlier.FieldValues().value("value", json());
    if (!v.is_number()) return false;
    *value = v.get<double>();
    return true;
  };
  json checked = fields;
  auto confirmed = checked.find("unusual_confirmed");
  if (confirmed != checked.end() && *confirmed == true) {
    *why = "";
    return Status::OK();
  }
  *why = WhyReturnUnusual(forms_, form.name, form.version, record_org, checked, figure_of);
  return read;
}

std::string LocalStore::WhyFigureNeedsConfirming(const std::string& form_name,
                                                 const std::string& record_org,
                                                 const json& fields) {
  const FormDef* form = forms_.Latest(form_name);
  std::string why;
  if (form == nullptr || !FigureCheck(*form, record_org, fields, &why).ok()) return "";
  return why;
}

// What a new record must pass before it is stored: a form this device has, an envelope that is
// its own, a plausible date, valid fields, a form and codes its org may use, a return's rules.
// Sets the form, the org the record is filed under and when it happened.
Status LocalStore::CheckNewRecord(const RecordInput& in, std::int64_t now_ms,
                                  const FormDef** form_out, std::string* record_org,
                                  std::string* occurred) {
  const FormDef* form = forms_.Latest(in.form);
  if (form == nullptr) {
    std::string known;
    for (const auto& n : forms_.FormNames()) known += (known.empty() ? "" : ", ") + n;
    return Status::InvalidArgument("unknown form '" + in.form + "' (this device has: " + known +
                                   ")");
  }
  auto own = [&](const std::optional<std::string>& given, const std::string& mine,
                 const char* what) {
    if (given && *given != mine) {
      return Status::InvalidArgument(std::string("\"") + what + "\" is '" + *given +
                                     "' but this device's is '" + mine + "'");
    }
    return Status::OK();
  };
  // The org the record is filed under: the device's own, except for partner returns (the
  // partnership's for a figure it shares, the owner's when the coordinator enters it for them).
  *record_org = FilingOrg(forms_, in.form, in.fields, identity_.org);
  if (in.org && *in.org != *record_org) BB_RETURN_IF_ERROR(own(in.org, identity_.org, "org"));
  BB_RETURN_IF_ERROR(own(in.author, identity_.user, "author"));
  BB_RETURN_IF_ERROR(own(in.device, identity_.device_id, "device"));
  *occurred = in.occurred_at ? *in.occurred_at : FormatIsoUtc(now_ms);
  std::int64_t occurred_ms = 0;
  Status s = ParseIsoDateTime(*occurred, &occurred_ms);
  if (!s.ok()) return Status::InvalidArgument("occurred_at: " + s.message());
  BB_RETURN_IF_ERROR(CheckOccurredAt(occurred_ms, now_ms, forms_.returns().first_fy()));
  auto errors = ValidateFields(*form, in.fields, occurred_ms);
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));
  BB_RETURN_IF_ERROR(CheckPhotosHeld(*form, in.fields));
  if (std::string why = WhyMayNotWrite(forms_, identity_.role, identity_.org, form->name,
                                       form->version, *record_org, in.fields);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  BB_RETURN_IF_ERROR(CheckReturn(*form, *record_org, in.fields, now_ms));
  *form_out = form;
  return Status::OK();
}

// A new record's id: derived from a partner return's natural key, else the one given (a valid id
// not shaped like a derived one), else a fresh time-ordered UUID. *derived says which.
Status LocalStore::ChooseRecordId(const RecordInput& in, const std::string& record_org,
                                  std::int64_t now_ms, std::string* id, bool* derived) {
  std::optional<std::string> natural = NaturalKeyId(forms_, in.form, in.fields, record_org);
  if (in.id && !IsValidId(*in.id)) {
    return Status::InvalidArgument("id '" + *in.id + "' is not a valid record id (use a UUID)");
  }
  if (in.id && !natural && IsNaturalKeyShapedId(*in.id)) {
    return Status::InvalidArgument("id '" + *in.id + "' has the shape kept for partner returns; " +
                                   "a " + in.form + " record may not take it");
  }
  if (in.id && natural && *in.id != *natural) {
    return Status::InvalidArgument("id '" + *in.id + "' does not match the id derived from the " +
                                   "return's indicator, fy, quarter and org (" + *natural + ")");
  }
  *derived = natural.has_value();
  *id = natural ? *natural : in.id ? *in.id : NewTimeOrderedUuid(now_ms);
  return Status::OK();
}

// The first change of a record (or, over `existing`, a second entry of the same partner return):
// every field given, and every field `existing` had, stamped `t` by this device.
RecordState LocalStore::NewRecordChange(const FormDef& form, const std::string& id,
                                        const std::string& record_org, const std::string& occurred,
                                        const json& fields, const RecordState* existing,
                                        HlcStamp t) const {
  const std::string& d = identity_.device_id;
  RecordState change;
  change.id = id;
  change.form = form.name;
  change.form_version = form.version;
  change.org = record_org;
  change.author = identity_.user;
  change.device = d;
  auto base = [&](const std::optional<Register>& r) { return existing && r ? r->t : 0; };
  change.occurred_at = Register{occurred, t, d, existing ? base(existing->occurred_at) : 0};
  change.deleted = Register{false, t, d, existing ? base(existing->deleted) : 0};
  for (const auto& f : form.fields) {
    auto it = fields.find(f.name);
    json v = it == fields.end() ? json(nullptr) : *it;
    const Register* had = nullptr;
    if (existing) {
      auto old = existing->fields.find(f.name);
      if (old != existing->fields.end()) had = &old->second;
    }
    if (v.is_null() && had == nullptr) continue;  // nothing to say about a field never set
    change.fields[f.name] = Register{v, t, d, had ? had->t : 0};
  }
  return change;
}

Status LocalStore::PrepareNewRecord(const RecordInput& in, HybridClock* hlc, RecordState* state) {
  std::int64_t now_ms = clock_->NowMs();
  const FormDef* form = nullptr;
  std::string record_org, occurred, id;
  BB_RETURN_IF_ERROR(CheckNewRecord(in, now_ms, &form, &record_org, &occurred));
  bool derived = false;
  BB_RETURN_IF_ERROR(ChooseRecordId(in, record_org, now_ms, &id, &derived));
  RecordState existing;
  bool found = false;
  // A fresh random id cannot be taken yet: only given and derived ids need looking up.
  if (in.id || derived) BB_RETURN_IF_ERROR(LoadState(id, &existing, &found));
  if (found && !derived)
    return Status::AlreadyExists("record " + id + " is already on this device");
  if (found && existing.IsDeleted()) {
    return Status::AlreadyExists("this return (record " + id + ") was deleted on this device");
  }

  RecordState change = NewRecordChange(*form, id, record_org, occurred, in.fields,
                                       found ? &existing : nullptr, hlc->Now());
  std::string change_json = change.ToText(/*with_base=*/true);
  if (found) {
    // A second entry of the same partner return: it merges into the first.
    Merge(&existing, change);
    BB_RETURN_IF_ERROR(WriteState(existing, existing.ToText()));
  } else {
    // A new record's state is its first change (every base is 0), so one serialisation serves both.
    BB_RETURN_IF_ERROR(WriteState(change, change_json));
  }
  BB_RETURN_IF_ERROR(AppendOutbox(change.id, change_json));
  *state = std::move(change);
  return Status::OK();
}

Status LocalStore::Log(const RecordInput& input, std::string* id) {
  return LogFromDraft(input, "", id);
}

Status LocalStore::LogFromDraft(const RecordInput& input, const std::string& draft_id,
                                std::string* id) {
  std::vector<std::string> ids;
  Status s = LogAllFinishing({input}, &ids, draft_id);
  if (!s.ok()) {
    // One record: drop the "record 1: " prefix LogAll adds.
    const std::string prefix = "record 1: ";
    std::string msg = s.message();
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    return s.IsInvalidArgument() ? Status::InvalidArgument(msg) : s;
  }
  *id = ids.front();
  return Status::OK();
}

Status LocalStore::LogAll(const std::vector<RecordInput>& inputs, std::vector<std::string>* ids) {
  return LogAllFinishing(inputs, ids, "");
}

Status LocalStore::LogAllFinishing(const std::vector<RecordInput>& inputs,
                                   std::vector<std::string>* ids,
                                   const std::string& finishing_draft) {
  if (inputs.size() > tunables::kBulkLogMaxRecords) {
    return Status::InvalidArgument("a bulk log holds at most " +
                                   std::to_string(tunables::kBulkLogMaxRecords) + " records");
  }
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), last);
  std::vector<std::string> errors;
  std::vector<std::string> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    RecordState state;
    Status s = PrepareNewRecord(inputs[i], &hlc, &state);
    if (s.IsInvalidArgument() || s.code() == Status::Code::kAlreadyExists) {
      errors.push_back("record " + std::to_string(i + 1) + ": " + s.message());
      continue;
    }
    BB_RETURN_IF_ERROR(s);
    out.push_back(state.id);
  }
  if (!errors.empty()) {
    std::string msg = Summarise(errors);
    if (inputs.size() > 1)
      msg = std::to_string(errors.size()) + " of " + std::to_string(inputs.size()) +
            " records are invalid, none " + "stored: " + msg;
    return errors.size() == 1 && inputs.size() == 1 && msg.find("already") != std::string::npos
               ? Status::AlreadyExists(msg)
               : Status::InvalidArgument(msg);
  }
  BB_RETURN_IF_ERROR(file_->PutMeta("hlc_last", std::to_string(hlc.last())));
  if (!finishing_draft.empty()) BB_RETURN_IF_ERROR(DeleteDraft(finishing_draft));
  BB_FAULT_POINT("store.log.before_commit");
  BB_RETURN_IF_ERROR(txn.Commit());
  *ids = std::move(out);
  return Status::OK();
}

// Whether `set_fields` (and a new `occurred_at`) may be applied to `state`: who may change it,
// fields that cannot change, the values that result, the form's rules. Sets the form, the changes
// to make (a changed figure also withdraws its confirmation) and the values after them.
Status LocalStore::CheckEdit(const RecordState& state, const json& set_fields,
                             const std::optional<std::string>& occurred_at,
                             const FormDef** form_out, json* set, json* values) {
  if (std::string why =
          WhyMayNotChange(forms_, identity_.role, identity_.user, identity_.org, state);
      !why.empty()) {
    return Status::FailedPrecondition(why);
  }
  const FormDef* form = forms_.Find(state.form, state.form_version);
  if (form == nullptr) {
    return Status::FailedPrecondition("record " + state.id + " uses form '" + state.form +
                                      "' version " + std::to_string(state.form_version) +
                                      ", which this device does not have");
  }
  for (const auto& key : form->immutable) {
    if (set_fields.contains(key)) {
      return Status::InvalidArgument("field '" + key + "' is part of the " + form->name +
                                     "'s natural key and cannot be edited; delete the record " +
                                     "and log a new one");
    }
  }
  *values = state.FieldValues();
  // A confirmation of an unusual figure stands for that figure only: changing the figure
  // withdraws it unless it is given again.
  *set = set_fields;
  if (set->contains("value") && !set->contains("unusual_confirmed") &&
      values->contains("unusual_confirmed")) {
    (*set)["unusual_confirmed"] = nullptr;
  }
  for (const auto& [name, v] : set->items()) {
    if (v.is_null()) {
      values->erase(name);
    } else {
      (*values)[name] = v;
    }
  }
  std::string occurred = occurred_at ? *occurred_at : state.OccurredAt();
  std::int64_t occurred_ms = 0;
  Status s = ParseIsoDateTime(occurred, &occurred_ms);
  if (!s.ok()) return Status::InvalidArgument("occurred_at: " + s.message());
  if (occurred_at) {
    BB_RETURN_IF_ERROR(CheckOccurredAt(occurred_ms, clock_->NowMs(), forms_.returns().first_fy()));
  }
  auto errors = ValidateFields(*form, *values, occurred_ms);
  for (const auto& [name, v] : set_fields.items()) {
    if (!form->Find(name) && v.is_null()) {
      errors.push_back({name, "", "unknown_field",
                        "field '" + name + "' is not a field of form '" + form->name + "'"});
    }
  }
  if (!errors.empty()) return Status::InvalidArgument(JoinErrors(errors));
  BB_RETURN_IF_ERROR(CheckPhotosHeld(*form, set_fields));
  if (std::string why = WhyMayNotWrite(forms_, identity_.role, identity_.org, form->name,
                                       form->version, state.org, *values);
      !why.empty()) {
    return Status::InvalidArgument(why);
  }
  if (set_fields.contains("value") || set_fields.contains("unusual_confirmed")) {
    BB_RETURN_IF_ERROR(CheckReturn(*form, state.org, *values, clock_->NowMs()));
  }
  *form_out = form;
  return Status::OK();
}

Status LocalStore::Edit(const std::string& id, const json& set_fields,
                        const std::optional<std::string>& occurred_at) {
  if (!set_fields.is_object()) return Status::InvalidArgument("fields to set must be an object");
  if (set_fields.empty() && !occurred_at) return Status::InvalidArgument("nothing to change");
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  RecordState state;
  BB_RETURN_IF_ERROR(Get(id, &state));
  const FormDef* form = nullptr;
  json set, values;
  BB_RETURN_IF_ERROR(CheckEdit(state, set_fields, occurred_at, &form, &set, &values));

  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), std::max(last, state.MaxStamp()));
  HlcStamp t = hlc.Now();
  const std::string& d = identity_.device_id;
  RecordState change = state;
  change.occurred_at.reset();
  change.deleted.reset();
  change.fields.clear();
  if (occurred_at) change.occurred_at = Register{*occurred_at, t, d, state.occurred_at->t};
  for (const auto& [name, v] : set.items()) {
    auto old = state.fields.find(name);
    change.fields[name] = Register{v, t, d, old == state.fields.end() ? 0 : old->second.t};
  }
  Merge(&state, change);
  // A record the server refused (it may never have taken the record at all) is fixed by sending
  // it whole: every register this device wrote, the unchanged ones with their own stamps, which
  // merge as no-ops wherever they are already known. (Registers other devices wrote are theirs
  // to send: the server refuses a change carrying another device's stamps.)
  bool refused = false;
  BB_RETURN_IF_ERROR(outbox_->HasRejections(id, &refused));
  if (refused) {
    auto mine = [&](const std::optional<Register>& r) { return r && r->d == d; };
    if (!change.occurred_at && mine(state.occurred_at)) change.occurred_at = state.occurred_at;
    if (!change.deleted && mine(state.deleted)) change.deleted = state.deleted;
    for (const auto& [name, reg] : state.fields) {
      if (reg.d == d) change.fields.emplace(name, reg);
    }
  }
  BB_RETURN_IF_ERROR(WriteState(state));
  BB_RETURN_IF_ERROR(AppendOutbox(change));
  BB_RETURN_IF_ERROR(file_->PutMeta("hlc_last", std::to_string(hlc.last())));
  return txn.Commit();
}

Status LocalStore::Delete(const std::string& id) {
  SqliteTransaction txn(&file_->db());
  BB_RETURN_IF_ERROR(txn.Begin());
  RecordState state;
  BB_RETURN_IF_ERROR(Get(id, &state));
  if (std::string why =
          WhyMayNotChange(forms_, identity_.role, identity_.user, identity_.org, state);
      !why.empty()) {
    return Status::FailedPrecondition(why);
  }
  HlcStamp last;
  BB_RETURN_IF_ERROR(ReadHlc(&last));
  HybridClock hlc(clock_.get(), std::max(last, state.MaxStamp()));
  RecordState change = state;
  change.occurred_at.reset();
  change.fields.clear();
  change.deleted =
      Register{true, hlc.Now(), identity_.device_id, state.deleted ? state.deleted->t : 0};
  Merge(&state, change);
  BB_RETURN_IF_ERROR(WriteState(state));
  BB_RETURN_IF_ERROR(AppendOutbox(change));
  BB_RETURN_IF_ERROR(file_->PutMeta("hlc_last", std::to_string(hlc.last())));
  BB_RETURN_IF_ERROR(txn.Commit());
  return PruneAttachments();  // a deleted record's photos are needed nowhere
}

Status LocalStore::Get(const std::string& id, RecordState* out) {
  bool found = false;
  BB_RETURN_IF_ERROR(LoadState(id, out, &found));
  if (!found) return Status::NotFound("no record with id '" + id + "' on this device");
  if (out->IsDeleted()) return Status::NotFound("record '" + id + "' was deleted");
  return Status::OK();
}

Status LocalStore::ReadStates(SqliteStmt* st, std::vector<RecordState>* out) const {
  SqliteStmt::StepResult r;
  std::string text;
  while ((r = st->Step()) == SqliteStmt::kRow) {
    RecordState state;
    BB_RETURN_IF_ERROR(file_->Unseal(st->ColumnText(1), "record:" + st->ColumnText(0), &text));
    BB_RETURN_IF_ERROR(ParseStoredState(text, &state));
    out->push_back(std::move(state));
  }
  return r == SqliteStmt::kDone ? Status::OK() : st->LastError();
}

Status LocalStore::List(const std::string& form, std::vector<RecordState>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare(
      "SELECT id, state FROM records WHERE deleted = 0 AND (?1 = '' OR form = ?1) "
      "ORDER BY occurred_ms, id",
      &st));
  st.Bind(1, form);
  return ReadStates(&st, out);
}

Status LocalStore::ListAllStates(std::vector<RecordState>* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare("SELECT id, state FROM records ORDER BY id", &st));
  return ReadStates(&st, out);
}

Status LocalStore::Summary(StoreSummary* out) {
  SqliteStmt st;
  BB_RETURN_IF_ERROR(file_->db().Prepare(
      "SELECT (SELECT count(*) FROM records WHERE deleted = 0), (SELECT count(*) FROM outbox), "
      "(SELECT count(*) FROM rejections)",
      &st));
  if (st.Step() != SqliteStmt::kRow) return st.LastError();
  out->records = st.ColumnInt(0);
  out->pending_changes = st.ColumnInt(1);
  out->rejections = st.ColumnInt(2);
  std::string text;
  BB_RETURN_IF_ERROR(file_->GetMeta("last_sync_ms", &text));
  BB_RETURN_IF_ERROR(MetaInt(text, "last_sync_ms", &out->last_sync_ms));
  return file_->GetMeta("cursor", &out->cursor);
}

Status LocalStore::Rejections(std::vector<Rejection>* out) { return outbox_->Rejections(out); }

}  // namespace beatbook
