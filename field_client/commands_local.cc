// The commands that need no server: init (stand-alone), log, list, show, edit, delete, status
// (forms and language: commands_forms.cc).
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>

#include "beatbook/clock.h"
#include "beatbook/crypto.h"
#include "beatbook/datetime.h"
#include "beatbook/indicators.h"
#include "beatbook/json_text.h"
#include "beatbook/permissions.h"
#include "beatbook/return_rules.h"
#include "beatbook/subject_key.h"
#include "beatbook/validation.h"
#include "field_client/cli_support.h"
#include "field_client/commands.h"

namespace field_client {

using beatbook::json;
using beatbook::JsonText;
using beatbook::Status;

namespace {

Status ReadAll(const std::string& path, std::string* text) {
  if (path == "-") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    *text = buf.str();
    return Status::OK();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  *text = buf.str();
  return Status::OK();
}

std::string ValueText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& item : v) s += (s.empty() ? "" : ",") + ValueText(item);
    return s;
  }
  return JsonText(v);
}

}  // namespace

int RunInit(const InitOptions& o) {
  if (!o.server.empty() || !o.token.empty()) {
    return RunEnrol(o);
  }
  if (o.user.empty() || o.org.empty() || o.role.empty()) {
    return Fail("init needs --user, --org and --role (stand-alone) or --server and --token");
  }
  std::optional<beatbook::Role> role = beatbook::ParseRole(o.role);
  // Board members and the safeguarding lead use the dashboard; they log nothing on a tablet.
  if (!role || *role == beatbook::Role::kBoard || *role == beatbook::Role::kSafeguardingLead) {
    return Fail("role '" + o.role +
                "' is not one of field_worker, partner_lead, coordinator, admin");
  }
  std::string pin;
  Status s = PrepareNewStore(o.data, o.pin, &pin);
  if (!s.ok()) return Fail(s);
  beatbook::FormSet forms;
  s = beatbook::FormSet::LoadDir(SchemaDir(o.schema), &forms);
  if (!s.ok()) return Fail(s);
  const auto* orgs = forms.List("org");
  if (orgs) {
    bool known = false;
    for (const auto& c : *orgs) known |= c.code == o.org;
    if (!known) return Fail("org '" + o.org + "' is not a partner organisation code");
  }
  beatbook::Identity id;
  id.user = o.user;
  id.org = o.org;
  id.role = *role;
  id.device_id = "dev-" + beatbook::NewUuid();
  std::unique_ptr<beatbook::LocalStore> store;
  s = CreateStore(o.data, pin, id, forms, &store);
  if (!s.ok()) return Fail(s);
  std::cout << "created stand-alone store in " << o.data << " for " << o.user << " (" << o.org
            << ", " << o.role << "), device " << id.device_id
            << (pin.empty() ? "" : ", signing in with a PIN") << "\n";
  return kExitOk;
}

// The form's person-key field set from a name and date of birth (never kept).
Status SetSubjectKey(const beatbook::LocalStore& store, const beatbook::FormDef& form,
                     const std::string& name, const std::string& dob, json* fields) {
  return beatbook::SetSubjectKeyField(store.identity().subject_secret, form, name, dob, fields);
}

namespace {

// --confirm-unusual and --for, as the return form's fields (a form without them refuses them).
Status SetReturnFlags(const beatbook::FormDef& form, bool confirm_unusual,
                      const std::string& entered_for, json* fields) {
  if (confirm_unusual) {
    if (!form.Find("unusual_confirmed")) {
      return Status::InvalidArgument("--confirm-unusual: form '" + form.name +
                                     "' has no figure to confirm");
    }
    (*fields)["unusual_confirmed"] = true;
  }
  if (!entered_for.empty()) {
    if (!form.Find("entered_for")) {
      return Status::InvalidArgument("--for: form '" + form.name +
                                     "' is not entered on another org's behalf");
    }
    (*fields)["entered_for"] = entered_for;
  }
  return Status::OK();
}

// After a record with a person key: how many earlier contacts this org's records on the device
// have had with that person this financial year (never who or where), on stderr.
void SaySeenBefore(beatbook::LocalStore& store, const beatbook::FormDef& form, const json& fields,
                   const std::string& id) {
  for (const auto& f : form.fields) {
    if (f.format != "keyed_hash") continue;
    auto key = fields.find(f.name);
    if (key == fields.end() || !key->is_string()) continue;
    std::vector<beatbook::RecordState> records;
    beatbook::RecordState self;
    if (!store.List(form.name, &records).ok() || !store.Get(id, &self).ok()) return;
    std::int64_t at = 0;
    if (!beatbook::ParseIsoDateTime(self.OccurredAt(), &at).ok()) return;
    int seen = beatbook::CountSeenBefore(records, f.name, key->get<std::string>(), at, id);
    std::cerr << (seen == 0 ? std::string("first contact with this person this year")
                            : "seen before: " + std::to_string(seen) + " earlier contact" +
                                  (seen == 1 ? "" : "s") + " with this person this year")
              << "\n";
  }
}

}  // namespace

int RunOwed(const std::string& data, int fy, const std::string& quarter_name, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  const beatbook::Identity& me = store->identity();
  if (me.role != beatbook::Role::kPartnerLead && me.role != beatbook::Role::kCoordinator) {
    return Fail("owed is for partner leads and the coordinator; this device's role is " +
                std::string(beatbook::RoleName(me.role)));
  }
  const beatbook::ReturnRules& rules = store->forms().returns();
  if (rules.empty()) return Fail("this device has no return rules yet: sync to get them");
  std::optional<int> quarter;
  if (!quarter_name.empty()) {
    quarter = beatbook::QuarterNumber(quarter_name);
    if (*quarter == 0) return Fail("--quarter '" + quarter_name + "' is not one of Q1, Q2, Q3, Q4");
  }
  std::int64_t now = beatbook::SystemClock::Default()->NowMs();
  // By default the year of the latest quarter that has ended (its returns are the ones falling
  // due): three months ago is in it.
  if (fy == 0) fy = beatbook::PeriodOf(now - 92LL * 86'400'000).fy;
  std::vector<beatbook::RecordState> returns;
  const beatbook::FormDef* return_form = store->forms().ReturnForm();
  if (return_form == nullptr) return Fail("this device has no form for partner returns");
  if (Status s = store->List(return_form->name, &returns); !s.ok()) return Fail(s);
  std::vector<beatbook::EnteredReturn> entered;
  for (const auto& r : returns) {
    json f = r.FieldValues();
    std::int64_t at = 0;
    if (!f.value("indicator", json()).is_string() || f.value("fy", json()) != fy ||
        !beatbook::ParseIsoDateTime(r.OccurredAt(), &at).ok()) {
      continue;
    }
    // Entered when the partner lead entered it on a tablet (its occurred_at).
    entered.push_back({f["indicator"].get<std::string>(), r.org,
                       beatbook::QuarterNumber(f.value("quarter", "")), at});
  }
  // A coordinator sees every owner; a partner lead their own org.
  std::string org = me.role == beatbook::Role::kCoordinator ? "" : me.org;
  auto items = beatbook::OwedItems(rules, fy, quarter, entered, now, org);
  json owed = beatbook::OwedJson(fy, items, now);
  std::cout << (as_json ? JsonText(owed) + "\n" : beatbook::RenderOwed(owed));
  return kExitOk;
}

int RunLog(const LogOptions& o) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(o.data, &store); !s.ok()) return Fail(s);
  if (!o.json_file.empty()) {
    if (!o.form.empty() || !o.sets.empty() || !o.occurred_at.empty() || !o.subject_name.empty() ||
        !o.subject_dob.empty()) {
      return Fail(
          "log --json takes no form, --set, --occurred-at or --subject-*: they come from "
          "the JSON");
    }
    std::string text;
    if (Status s = ReadAll(o.json_file, &text); !s.ok()) return Fail(s);
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      return Fail("the JSON in " + (o.json_file == "-" ? std::string("stdin") : o.json_file) +
                  " is malformed at byte " + std::to_string(e.byte) + ": " + e.what());
    }
    if (!doc.is_array()) doc = json::array({doc});
    std::vector<beatbook::RecordInput> inputs(doc.size());
    for (size_t i = 0; i < doc.size(); ++i) {
      std::string where = "record " + std::to_string(i + 1);
      // {"subject": {"name": ..., "dob": ...}} becomes the person key, and is dropped.
      json subject;
      if (doc[i].is_object() && doc[i].contains("subject")) {
        subject = doc[i]["subject"];
        doc[i].erase("subject");
      }
      Status s = beatbook::RecordInput::FromJson(doc[i], where, &inputs[i]);
      if (!s.ok()) return Fail(s);
      if (!subject.is_null()) {
        const beatbook::FormDef* form = store->forms().Latest(inputs[i].form);
        if (!subject.is_object() || form == nullptr || !subject.value("name", json()).is_string() ||
            !subject.value("dob", json()).is_string()) {
          return Fail(where + ": \"subject\" must be {\"name\": ..., \"dob\": \"YYYY-MM-DD\"}");
        }
        s = SetSubjectKey(*store, *form, subject.value("name", ""), subject.value("dob", ""),
                          &inputs[i].fields);
        if (!s.ok()) return Fail(where + ": " + s.message());
      }
    }
    std::vector<std::string> ids;
    if (Status s = store->LogAll(inputs, &ids); !s.ok()) return Fail(s);
    std::string out;
    out.reserve(ids.size() * 37);
    for (const auto& id : ids) out.append(id).push_back('\n');
    std::cout << out;
    return kExitOk;
  }
  if (o.form.empty()) return Fail("log needs a FORM (or --json FILE)");
  const beatbook::FormDef* form = store->forms().Latest(o.form);
  if (form == nullptr) {
    std::string known;
    for (const auto& n : store->forms().FormNames()) known += (known.empty() ? "" : ", ") + n;
    return Fail("unknown form '" + o.form + "' (this device has: " + known + ")");
  }
  beatbook::RecordInput input;
  input.form = o.form;
  if (Status s = ParseSets(*form, o.sets, &input.fields); !s.ok()) return Fail(s);
  if (Status s = SetReturnFlags(*form, o.confirm_unusual, o.entered_for, &input.fields); !s.ok()) {
    return Fail(s);
  }
  if (o.draft) {
    // Kept to finish later: not validated, never synced. A person's details are never kept.
    if (!o.subject_name.empty() || !o.subject_dob.empty()) {
      return Fail("a draft keeps no name or date of birth: give them when you finish it");
    }
    beatbook::Draft draft;
    draft.form = o.form;
    draft.fields = input.fields;
    if (!o.occurred_at.empty()) draft.occurred_at = o.occurred_at;
    std::string id;
    if (Status s = store->SaveDraft(draft, &id); !s.ok()) return Fail(s);
    std::cout << id << "\n";
    return kExitOk;
  }
  if (!o.subject_name.empty() || !o.subject_dob.empty()) {
    Status s = SetSubjectKey(*store, *form, o.subject_name, o.subject_dob, &input.fields);
    if (!s.ok()) return Fail(s);
  }
  if (!o.occurred_at.empty()) input.occurred_at = o.occurred_at;
  std::string id;
  if (Status s = store->Log(input, &id); !s.ok()) return Fail(s);
  std::cout << id << "\n";
  SaySeenBefore(*store, *form, input.fields, id);
  return kExitOk;
}

int RunList(const std::string& data, const std::string& form, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  if (!form.empty() && store->forms().Latest(form) == nullptr) {
    return Fail("unknown form '" + form + "'");
  }
  std::vector<beatbook::RecordState> records;
  if (Status s = store->List(form, &records); !s.ok()) return Fail(s);
  if (as_json) {
    json out = {{"records", json::array()}};
    for (const auto& r : records) out["records"].push_back(r.ToRecordJson());
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records) {
    std::string summary;
    const json values = r.FieldValues();
    for (const auto& [name, v] : values.items()) {
      summary += (summary.empty() ? "" : " ") + name + "=" + ValueText(v);
    }
    if (summary.size() > 60) summary = summary.substr(0, 57) + "...";
    rows.push_back({r.id, r.form, r.OccurredAt(), r.author, summary});
  }
  PrintTable(std::cout, {"ID", "FORM", "OCCURRED AT", "AUTHOR", "FIELDS"}, rows);
  std::cout << records.size() << " record" << (records.size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

int RunShow(const std::string& data, const std::string& id, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  beatbook::RecordState r;
  if (Status s = store->Get(id, &r); !s.ok()) return Fail(s);
  // Where each photo the record names is: on the server, waiting here, or on another device.
  std::map<std::string, beatbook::AttachmentState> states;
  if (Status s = store->PhotoStates(r, &states); !s.ok()) return Fail(s);
  json photos = json::object();
  for (const auto& [name, state] : states) photos[name] = beatbook::AttachmentStateName(state);
  if (as_json) {
    json out = r.ToRecordJson();
    if (!photos.empty()) out["photos"] = photos;
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"id", r.id},         {"form", r.form + " (version " + std::to_string(r.form_version) + ")"},
      {"org", r.org},       {"author", r.author},
      {"device", r.device}, {"occurred_at", r.OccurredAt()}};
  const json values = r.FieldValues();
  for (const auto& [name, v] : values.items()) {
    std::string text = ValueText(v);
    if (v.is_string() && photos.contains(text)) {
      text += " (" + PhotoStateText(store.get(), text) + ")";
    }
    rows.push_back({name, text});
  }
  PrintTable(std::cout, {"FIELD", "VALUE"}, rows);
  return kExitOk;
}

int RunEdit(const std::string& data, const std::string& id, const std::vector<std::string>& sets,
            const std::string& occurred_at, bool confirm_unusual) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  beatbook::RecordState r;
  if (Status s = store->Get(id, &r); !s.ok()) return Fail(s);
  const beatbook::FormDef* form = store->forms().Find(r.form, r.form_version);
  if (form == nullptr) return Fail("record " + id + " uses a form version this device lacks");
  json fields;
  if (Status s = ParseSets(*form, sets, &fields); !s.ok()) return Fail(s);
  if (Status s = SetReturnFlags(*form, confirm_unusual, "", &fields); !s.ok()) return Fail(s);
  std::optional<std::string> when;
  if (!occurred_at.empty()) when = occurred_at;
  if (Status s = store->Edit(id, fields, when); !s.ok()) return Fail(s);
  std::cout << id << "\n";
  return kExitOk;
}

int RunDelete(const std::string& data, const std::string& id) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  if (Status s = store->Delete(id); !s.ok()) return Fail(s);
  std::cout << id << "\n";
  return kExitOk;
}

int RunStatus(const std::string& data, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  beatbook::StoreSummary sum;
  if (Status s = store->Summary(&sum); !s.ok()) return Fail(s);
  std::vector<beatbook::Rejection> rejections;
  if (Status s = store->Rejections(&rejections); !s.ok()) return Fail(s);
  const auto& id = store->identity();
  if (as_json) {
    json rej = json::array();
    for (const auto& r : rejections) {
      rej.push_back({{"record_id", r.record_id},
                     {"change_id", r.change_id},
                     {"reason", r.reason},
                     {"at", beatbook::FormatIsoUtc(r.at_ms)}});
    }
    json out = {{"user", id.user},
                {"org", id.org},
                {"role", beatbook::RoleName(id.role)},
                {"device", id.device_id},
                {"server", id.server_url.empty() ? json(nullptr) : json(id.server_url)},
                {"records", sum.records},
                {"pending_changes", sum.pending_changes},
                {"rejected", rej},
                {"last_sync", sum.last_sync_ms ? json(beatbook::FormatIsoUtc(sum.last_sync_ms))
                                               : json(nullptr)}};
    std::cout << JsonText(out) << "\n";
    return kExitOk;
  }
  std::cout << "user:            " << id.user << " (" << id.org << ", "
            << beatbook::RoleName(id.role) << ")\n"
            << "device:          " << id.device_id << "\n"
            << "server:          " << (id.server_url.empty() ? "none (stand-alone)" : id.server_url)
            << "\n"
            << "records:         " << sum.records << "\n"
            << "waiting to sync: " << sum.pending_changes << " change"
            << (sum.pending_changes == 1 ? "" : "s") << "\n"
            << "last sync:       " << HumanTime(sum.last_sync_ms) << "\n"
            << "rejected:        " << rejections.size() << "\n";
  for (const auto& r : rejections) {
    std::cout << "  record " << r.record_id << ": " << r.reason << "\n";
  }
  return kExitOk;
}

}  // namespace field_client
