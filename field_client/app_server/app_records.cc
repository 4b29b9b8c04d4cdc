// The app API's forms, records and drafts (docs/app-api.md): the page shows forms as data and
// sends answers; the core validates and stores them, and stays the authority on what is kept.
#include <algorithm>
#include <map>
#include <set>

#include "beatbook/datetime.h"
#include "beatbook/permissions.h"
#include "beatbook/return_rules.h"
#include "beatbook/subject_key.h"
#include "beatbook/validation.h"
#include "field_client/app_server/app_api.h"
#include "field_client/app_server/app_reply.h"

namespace field_client {

using beatbook::FieldDef;
using beatbook::FormDef;
using beatbook::Status;
using beatbook::TextIn;
using nlohmann::json;

namespace {

json RelevanceJson(const beatbook::Relevance& r) {
  using Op = beatbook::Relevance::Op;
  json j = {{"field", r.field}};
  switch (r.op) {
    case Op::kEquals:
      j["equals"] = r.operand;
      break;
    case Op::kIn:
      j["in"] = r.operand;
      break;
    case Op::kInList:
      j["in_list"] = true;
      j["codes"] = json(std::vector<std::string>(r.list_codes.begin(), r.list_codes.end()));
      break;
    case Op::kIncludes:
      j["includes"] = r.operand;
      break;
    case Op::kPresent:
      j["present"] = true;
      break;
  }
  return j;
}

// `f` as the page builds its question; `language` gives a yes/no question's two answers and
// the named places' labels.
json FieldJson(const FieldDef& f, const beatbook::Language& language,
               const beatbook::Gazetteer& gazetteer) {
  json j = {{"name", f.name},         {"type", beatbook::FieldTypeName(f.type)},
            {"label", f.label},       {"help", f.help},
            {"required", f.required}, {"sensitive", f.sensitive}};
  if (f.type == beatbook::FieldType::kBoolean) {
    j["yes_label"] = language.yes;
    j["no_label"] = language.no;
  }
  if (f.places && !gazetteer.empty()) {
    json places = json::array();
    for (const auto& p : gazetteer.places()) {
      places.push_back({{"code", p.code}, {"label", TextIn(p.label, p.labels, language.code)}});
    }
    j["places"] = std::move(places);
  }
  if (f.min) j["min"] = *f.min;
  if (f.max) j["max"] = *f.max;
  if (f.max_length) j["max_length"] = f.max_length;
  if (!f.format.empty()) j["format"] = f.format;
  if (f.relevant) j["relevant"] = RelevanceJson(*f.relevant);
  if (!f.choices.empty()) {
    json choices = json::array();
    for (const auto& c : f.choices) choices.push_back({{"code", c.code}, {"label", c.label}});
    j["choices"] = std::move(choices);
  }
  return j;
}

// The answers of a POST/PUT body, checked as the core checks them on save: the fields against
// the form, the time against the clock, the person's details turned into the person key.
struct Answers {
  beatbook::RecordInput input;
  std::vector<beatbook::ValidationError> errors;
  std::vector<std::pair<std::string, std::string>> also;  // the time, the person
};

Answers ReadAnswers(const beatbook::LocalStore& store, const FormDef& form, const json& body,
                    std::int64_t now_ms) {
  Answers a;
  a.input.form = form.name;
  a.input.fields = body.value("fields", json::object());
  if (!a.input.fields.is_object()) {
    a.also.push_back({"fields", "the answers must be an object of field names and values"});
    a.input.fields = json::object();
  }
  std::int64_t occurred_ms = now_ms;
  if (body.contains("occurred_at") && !body["occurred_at"].is_null()) {
    std::string when =
        body["occurred_at"].is_string() ? body["occurred_at"].get<std::string>() : "";
    Status s = beatbook::ParseIsoDateTime(when, &occurred_ms);
    if (s.ok()) {
      s = beatbook::CheckOccurredAt(occurred_ms, now_ms, store.forms().returns().first_fy());
    }
    if (!s.ok()) a.also.push_back({"occurred_at", "when it happened: " + s.message()});
    a.input.occurred_at = when;
  }
  if (body.contains("subject") && body["subject"].is_object()) {
    const json& who = body["subject"];
    std::string name = who.value("name", json("")).is_string() ? who.value("name", "") : "";
    std::string dob = who.value("dob", json("")).is_string() ? who.value("dob", "") : "";
    if (!name.empty() || !dob.empty()) {
      Status s = beatbook::SetSubjectKeyField(store.identity().subject_secret, form, name, dob,
                                              &a.input.fields);
      if (!s.ok()) a.also.push_back({"subject", "the person: " + s.message()});
    }
  }
  a.errors = beatbook::ValidateFields(form, a.input.fields, occurred_ms);
  return a;
}

}  // namespace

bool AppApi::MayUseForm(const std::string& form) const {
  const beatbook::Identity& me = store_->identity();
  const FormDef* def = store_->forms().Latest(form);
  // The form's writers (roles and orgs), as the core checks them on save.
  return def != nullptr && beatbook::MayLogForm(store_->forms(), me.role, me.org, *def);
}

AppApi::Response AppApi::Forms() {
  const std::string chosen = Language();
  json forms = json::array();
  for (const auto& name : store_->forms().FormNames()) {
    const FormDef* form = store_->forms().Latest(name);
    if (form == nullptr || !MayUseForm(name)) continue;
    // In the worker's language when the form is written in it; otherwise in the default.
    const FormDef shown_form = form->InLanguage(chosen);
    const FormDef* f = &shown_form;
    const std::string in = form->HasLanguage(chosen) ? chosen : form->languages.front();
    const beatbook::Language* language = store_->forms().FindLanguage(in);
    json fields = json::array();
    for (const auto& field : f->fields) {
      json shown = FieldJson(field, language ? *language : store_->forms().default_language(),
                             store_->forms().places());
      // Choices this worker's org may not pick are not offered (and refused if sent anyway).
      if (shown.contains("choices")) {
        json offered = json::array();
        for (auto& c : shown["choices"]) {
          const beatbook::Identity& me = store_->identity();
          if (beatbook::MayPickChoice(store_->forms(), me.role, me.org, *f, field, c["code"])) {
            offered.push_back(std::move(c));
          }
        }
        shown["choices"] = std::move(offered);
      }
      fields.push_back(std::move(shown));
    }
    forms.push_back({{"form", f->name},
                     {"version", f->version},
                     {"label", f->label},
                     {"help", f->help},
                     {"language", in},
                     {"languages", LanguagesJson(form->languages)},
                     {"fields", std::move(fields)}});
  }
  return Response(200, {{"forms", std::move(forms)}});
}

AppApi::Response AppApi::Check(const json& body) {
  const FormDef* form = store_->forms().Latest(body.value("form", ""));
  if (form == nullptr) return AppError(400, "bad_request", "no such form");
  Answers a = ReadAnswers(*store_, *form, body, clock_->NowMs());
  Response r = a.errors.empty() && a.also.empty() ? Response(200, json::object())
                                                  : ValidationFailed(a.errors, a.also);
  r.status = 200;  // a check answers; it refuses nothing
  r.body.erase("error");
  if (!r.body.contains("errors")) r.body["errors"] = json::array();
  return r;
}

// 200 unless the answers hold a return figure far outside its owner's history and not ticked
// as checked: then 400 with the reason on the "value" question (code "unusual"), so the app can
// offer the tick.
AppApi::Response AppApi::UnusualFigure(const std::string& form, const std::string& org,
                                       const json& fields) {
  std::string why = store_->WhyFigureNeedsConfirming(form, org, fields);
  if (why.empty()) return Response(200, json::object());
  std::string message =
      "This figure looks unusual: " + why +
      ". Check it. If it is right, tick \u201cI have checked this figure\u201d and "
      "save again.";
  Response r = AppError(400, "unusual", message);
  r.body["errors"] = json::array({{{"field", "value"}, {"code", "unusual"}, {"message", message}}});
  return r;
}

AppApi::Response AppApi::CreateRecord(const json& body) {
  std::string form_name = body.value("form", "");
  const FormDef* form = store_->forms().Latest(form_name);
  if (form == nullptr || !MayUseForm(form_name)) {
    return AppError(400, "bad_request",
                    "this worker cannot fill in a form called '" + form_name + "'");
  }
  Answers a = ReadAnswers(*store_, *form, body, clock_->NowMs());
  if (!a.errors.empty() || !a.also.empty()) return ValidationFailed(a.errors, a.also);
  const beatbook::Identity& me = store_->identity();
  std::string org = beatbook::FilingOrg(store_->forms(), form->name, a.input.fields, me.org);
  if (Response r = UnusualFigure(form->name, org, a.input.fields); r.status != 200) return r;
  std::string draft_id =
      body.value("draft_id", json("")).is_string() ? body.value("draft_id", "") : "";
  std::string id;
  Status s = store_->LogFromDraft(a.input, draft_id, &id);
  if (!s.ok()) return StoreError(s);
  json reply = {{"id", id}};
  // Seen before: how many earlier contacts this org's records on the tablet have had with the
  // person this year (a count only: never who entered them or where).
  for (const auto& f : form->fields) {
    auto key = a.input.fields.find(f.name);
    if (f.format != "keyed_hash" || key == a.input.fields.end() || !key->is_string()) continue;
    std::vector<beatbook::RecordState> records;
    beatbook::RecordState saved;
    std::int64_t at = 0;
    if (store_->List(form->name, &records).ok() && store_->Get(id, &saved).ok() &&
        beatbook::ParseIsoDateTime(saved.OccurredAt(), &at).ok()) {
      reply["seen_before"] =
          beatbook::CountSeenBefore(records, f.name, key->get<std::string>(), at, id);
    }
  }
  return Response(201, std::move(reply));
}

Status AppApi::LoadSyncStates(SyncStates* out) {
  std::vector<beatbook::OutboxEntry> outbox;
  std::vector<beatbook::Rejection> rejections;
  BB_RETURN_IF_ERROR(store_->ReadOutbox(1'000'000, &outbox, /*parse=*/false));
  BB_RETURN_IF_ERROR(store_->Rejections(&rejections));
  for (const auto& e : outbox) out->waiting.insert(e.record_id);
  for (const auto& r : rejections) out->refused[r.record_id] = r.reason;  // oldest first
  return Status::OK();
}

namespace {

// The server names fields by code ("field 'attendees': ..."); a worker reads their labels
// ("Attendees: ...").
std::string WithLabels(const FormDef& form, const std::string& language, std::string reason) {
  for (const auto& f : form.fields) {
    const std::string& label = TextIn(f.label, f.labels, language);
    if (label.empty()) continue;
    const std::string code = "field '" + f.name + "'";
    for (auto at = reason.find(code); at != std::string::npos; at = reason.find(code, at)) {
      reason.replace(at, code.size(), label);
      at += label.size();
    }
  }
  return reason;
}

}  // namespace

json AppApi::RecordJson(const beatbook::RecordState& r, const SyncStates& states,
                        const std::string& language) {
  // Its sync state: refused by the server (with the latest reason), waiting, or sent.
  bool waiting = states.waiting.count(r.id) > 0;
  auto refused = states.refused.find(r.id);
  std::string reason = refused == states.refused.end() ? "" : refused->second;
  const FormDef* form = store_->forms().Find(r.form, r.form_version);
  json j = {{"id", r.id},
            {"form", r.form},
            {"form_label", form ? TextIn(form->label, form->labels, language) : r.form},
            {"occurred_at", r.OccurredAt()},
            {"author", r.author},
            {"mine", r.author == store_->identity().user},
            {"state", !reason.empty() ? "needs_fixing"
                      : waiting       ? "not_sent"
                                      : "sent"},
            {"fields", r.FieldValues()}};
  if (!reason.empty()) {
    j["reason"] = Sentence(form ? WithLabels(*form, language, reason) : reason);
  }
  if (json photos = PhotoStates(r); !photos.empty()) j["photos"] = std::move(photos);
  return j;
}

AppApi::Response AppApi::ListRecords(const Request& request) {
  std::string form;
  std::string query = request.target.find('?') == std::string::npos
                          ? ""
                          : request.target.substr(request.target.find('?') + 1);
  if (query.rfind("form=", 0) == 0) form = query.substr(5, query.find('&') - 5);
  std::vector<beatbook::RecordState> records;
  if (Status s = store_->List(form, &records); !s.ok()) return StoreError(s);
  std::reverse(records.begin(), records.end());  // newest first
  SyncStates states;
  if (Status s = LoadSyncStates(&states); !s.ok()) return StoreError(s);
  json list = json::array();
  const std::string language = Language();
  for (const auto& r : records) list.push_back(RecordJson(r, states, language));
  return Response(200, {{"records", std::move(list)}});
}

AppApi::Response AppApi::GetRecord(const std::string& id) {
  beatbook::RecordState r;
  if (Status s = store_->Get(id, &r); !s.ok()) return StoreError(s);
  SyncStates states;
  if (Status s = LoadSyncStates(&states); !s.ok()) return StoreError(s);
  return Response(200, RecordJson(r, states, Language()));
}

AppApi::Response AppApi::EditRecord(const std::string& id, const json& body) {
  beatbook::RecordState r;
  if (Status s = store_->Get(id, &r); !s.ok()) return StoreError(s);
  const FormDef* form = store_->forms().Find(r.form, r.form_version);
  if (form == nullptr) return AppError(409, "old_form", "this record's form is not on this tablet");
  // The body holds every answer the record should have (a full replacement): what changed
  // becomes the edit, an answer left out is cleared, an unchanged one is no change at all (so a
  // partner return's key fields, sent back as they were, are not "edited").
  json answers = body.value("fields", json::object());
  if (!answers.is_object()) return AppError(400, "bad_request", "fields must be an object");
  json before = r.FieldValues();
  json set = json::object();
  for (const auto& [name, value] : answers.items()) {
    if (!value.is_null() && (!before.contains(name) || before[name] != value)) set[name] = value;
  }
  for (const auto& [name, value] : before.items()) {
    if (!answers.contains(name) || answers[name].is_null()) set[name] = nullptr;
  }
  json merged = {{"fields", answers}, {"occurred_at", r.OccurredAt()}};
  for (auto it = merged["fields"].begin(); it != merged["fields"].end();) {
    it = it->is_null() ? merged["fields"].erase(it) : std::next(it);
  }
  std::optional<std::string> when;
  if (body.contains("occurred_at") && body["occurred_at"].is_string()) {
    when = body["occurred_at"].get<std::string>();
    merged["occurred_at"] = *when;
  }
  Answers a = ReadAnswers(*store_, *form, merged, clock_->NowMs());
  if (!a.errors.empty() || !a.also.empty()) return ValidationFailed(a.errors, a.also);
  if (set.empty() && !when) return Response(200, {{"id", id}});  // nothing changed
  if (set.contains("value") && !set.contains("unusual_confirmed")) {
    a.input.fields.erase("unusual_confirmed");  // a new figure needs its own confirmation
  }
  if (Response u = UnusualFigure(form->name, r.org, a.input.fields); u.status != 200) return u;
  if (Status s = store_->Edit(id, set, when); !s.ok()) return StoreError(s);
  return Response(200, {{"id", id}});
}

AppApi::Response AppApi::DeleteRecord(const std::string& id) {
  if (Status s = store_->Delete(id); !s.ok()) return StoreError(s);
  return Response(200, json::object());
}

AppApi::Response AppApi::ListDrafts() {
  const std::string language = Language();
  std::vector<beatbook::Draft> drafts;
  if (Status s = store_->ListDrafts(&drafts); !s.ok()) return StoreError(s);
  json list = json::array();
  for (const auto& d : drafts) {
    const FormDef* form = store_->forms().Latest(d.form);
    list.push_back({{"id", d.id},
                    {"form", d.form},
                    {"form_label", form ? TextIn(form->label, form->labels, language) : d.form},
                    {"updated_at", beatbook::FormatIsoUtc(d.updated_ms)},
                    {"occurred_at", d.occurred_at ? json(*d.occurred_at) : json()},
                    {"fields", d.fields}});
  }
  return Response(200, {{"drafts", std::move(list)}});
}

AppApi::Response AppApi::SaveDraft(const std::string& id, const json& body) {
  // A person's name and date of birth are never kept, not even in a draft: "subject" is ignored.
  beatbook::Draft d;
  d.id = id;
  d.form = body.value("form", json("")).is_string() ? body.value("form", "") : "";
  if (!MayUseForm(d.form)) return AppError(400, "bad_request", "no such form for this worker");
  d.fields = body.value("fields", json::object());
  if (body.contains("occurred_at") && body["occurred_at"].is_string()) {
    d.occurred_at = body["occurred_at"].get<std::string>();
  }
  std::string saved;
  if (Status s = store_->SaveDraft(d, &saved); !s.ok()) return StoreError(s);
  return Response(id.empty() ? 201 : 200, {{"id", saved}});
}

AppApi::Response AppApi::DeleteDraft(const std::string& id) {
  if (Status s = store_->DeleteDraft(id); !s.ok()) return StoreError(s);
  return Response(200, json::object());
}

}  // namespace field_client
