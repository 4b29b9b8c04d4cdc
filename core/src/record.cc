#include "beatbook/record.h"

#include <algorithm>
#include <cctype>

#include "beatbook/crypto.h"
#include "beatbook/validation.h"

namespace beatbook {

namespace {

// Limits of a record's envelope (docs/protocol.md, section 1).
constexpr std::size_t kMaxEnvelopeText = 200;
constexpr std::int64_t kMaxFormVersion = 1'000'000;

// Ids are generated (UUIDs) or derived: letters, digits, '-' and '_', at most 64.
bool IsValidRecordId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

json RegisterToJson(const Register& r, bool with_base) {
  json j = {{"v", r.v}, {"t", r.t}, {"d", r.d}};
  if (with_base && r.b != 0) j["b"] = r.b;
  return j;
}

// The member types of a register; its values are checked by CheckRegisterValues.
Status RegisterFromJson(const json& j, const std::string& where, Register* out) {
  if (!j.is_object() || !j.contains("v") || !j.contains("t") || !j.contains("d")) {
    return Status::InvalidArgument(where + " must be an object with \"v\", \"t\" and \"d\"");
  }
  if (!j["t"].is_number_integer()) {
    return Status::InvalidArgument(where + ".t must be a positive integer stamp");
  }
  if (!j["d"].is_string()) return Status::InvalidArgument(where + ".d must be a device id");
  out->v = j["v"];
  out->t = j["t"].get<std::int64_t>();
  out->d = j["d"].get<std::string>();
  out->b = 0;
  if (j.contains("b")) {
    if (!j["b"].is_number_integer())
      return Status::InvalidArgument(where + ".b must be an integer");
    out->b = j["b"].get<std::int64_t>();
  }
  return Status::OK();
}

Status CheckRegisterValues(const Register& r, const std::string& where) {
  if (r.t <= 0) return Status::InvalidArgument(where + ".t must be a positive integer stamp");
  if (r.d.empty() || r.d.size() > kMaxEnvelopeText) {
    return Status::InvalidArgument(where + ".d must be a device id");
  }
  return Status::OK();
}

std::string EnvelopeTextRule(const char* key) {
  return std::string("record state: \"") + key + "\" must be a non-empty string of at most " +
         std::to_string(kMaxEnvelopeText) + " bytes";
}

// Merges one register; returns true if `*target` changed.
bool MergeRegister(const std::string& record_id, const std::string& name,
                   std::optional<Register>* target, const Register& incoming,
                   std::vector<Conflict>* conflicts) {
  if (!target->has_value()) {
    *target = incoming;
    (*target)->b = 0;
    return true;
  }
  Register& stored = **target;
  if (stored.t == incoming.t && stored.d == incoming.d) return false;  // same write again
  bool incoming_wins = incoming.After(stored);
  // Concurrent: different writers, different values, and the writer had not seen the stored value.
  bool concurrent = incoming.d != stored.d && incoming.v != stored.v && incoming.b != stored.t &&
                    !(incoming_wins && incoming.b > stored.t);
  if (concurrent) {
    Register in = incoming;
    in.b = 0;
    conflicts->push_back(incoming_wins ? Conflict{record_id, name, in, stored}
                                       : Conflict{record_id, name, stored, in});
  }
  if (!incoming_wins) return false;
  stored = incoming;
  stored.b = 0;
  return true;
}

// The envelope's strings and the id: checked before the id is quoted in any message.
Status CheckEnvelope(const RecordState& s) {
  // Envelope strings: short plain names and ids, never text with control characters.
  const std::pair<const char*, const std::string*> envelope[] = {{"id", &s.id},
                                                                 {"form", &s.form},
                                                                 {"org", &s.org},
                                                                 {"author", &s.author},
                                                                 {"device", &s.device}};
  for (const auto& [key, text] : envelope) {
    if (text->empty() || text->size() > kMaxEnvelopeText) {
      return Status::InvalidArgument(EnvelopeTextRule(key));
    }
    if (std::string bad = ForbiddenCharacterIn(*text, false); !bad.empty()) {
      return Status::InvalidArgument(std::string("record state: \"") + key +
                                     "\" holds a control or text-direction character (" + bad +
                                     ")");
    }
  }
  if (!IsValidRecordId(s.id)) {
    return Status::InvalidArgument(
        "record state: \"id\" must be 1 to 64 letters, digits, '-' or '_' (a UUID)");
  }
  return Status::OK();
}

bool RegisterValuesBad(const Register& r) {
  return r.t <= 0 || r.d.empty() || r.d.size() > kMaxEnvelopeText;
}

}  // namespace

std::string RecordState::OccurredAt() const {
  return occurred_at && occurred_at->v.is_string() ? occurred_at->v.get<std::string>() : "";
}

json RecordState::FieldValues() const {
  json out = json::object();
  for (const auto& [name, reg] : fields) {
    if (!reg.v.is_null()) out[name] = reg.v;
  }
  return out;
}

HlcStamp RecordState::MaxStamp() const {
  HlcStamp m = 0;
  if (occurred_at) m = std::max(m, occurred_at->t);
  if (deleted) m = std::max(m, deleted->t);
  for (const auto& [name, reg] : fields) m = std::max(m, reg.t);
  return m;
}

json RecordState::ToJson(bool with_base) const {
  json j = {{"id", id},   {"form", form},     {"form_version", form_version},
            {"org", org}, {"author", author}, {"device", device}};
  if (occurred_at) j["occurred_at"] = RegisterToJson(*occurred_at, with_base);
  if (deleted) j["deleted"] = RegisterToJson(*deleted, with_base);
  json f = json::object();
  for (const auto& [name, reg] : fields) f[name] = RegisterToJson(reg, with_base);
  j["fields"] = std::move(f);
  if (purged) j["purged"] = true;
  return j;
}

int RecordState::FormVersionFrom(std::int64_t n) {
  return n >= 1 && n <= kMaxFormVersion ? static_cast<int>(n) : 0;
}

Status RecordState::FromJson(const json& j, RecordState* out) {
  if (!j.is_object()) return Status::InvalidArgument("a record state must be a JSON object");
  RecordState s;
  // First the members' types (what a streaming decoder checks as it reads), then CheckDecoded.
  auto str = [&](const char* key, std::string* dst) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return Status::InvalidArgument(EnvelopeTextRule(key));
    *dst = it->get<std::string>();
    return Status::OK();
  };
  BB_RETURN_IF_ERROR(str("id", &s.id));
  BB_RETURN_IF_ERROR(str("form", &s.form));
  BB_RETURN_IF_ERROR(str("org", &s.org));
  BB_RETURN_IF_ERROR(str("author", &s.author));
  BB_RETURN_IF_ERROR(str("device", &s.device));
  // The id is quoted in the messages below: it must be one first.
  BB_RETURN_IF_ERROR(CheckEnvelope(s));
  // Read as a 64-bit number first: 4294967298 must be refused, not stored as 2.
  auto version = j.find("form_version");
  s.form_version = version != j.end() && version->is_number_integer()
                       ? FormVersionFrom(version->get<std::int64_t>())
                       : 0;
  std::string where = "record " + s.id;
  if (j.contains("occurred_at")) {
    Register r;
    BB_RETURN_IF_ERROR(RegisterFromJson(j["occurred_at"], where + ": occurred_at", &r));
    s.occurred_at = r;
  }
  if (j.contains("deleted")) {
    Register r;
    BB_RETURN_IF_ERROR(RegisterFromJson(j["deleted"], where + ": deleted", &r));
    s.deleted = r;
  }
  if (j.contains("fields")) {
    if (!j["fields"].is_object())
      return Status::InvalidArgument(where + ": fields must be an object");
    for (const auto& [name, rj] : j["fields"].items()) {
      Register r;
      BB_RETURN_IF_ERROR(RegisterFromJson(rj, where + ": field '" + name + "'", &r));
      s.fields.emplace(name, std::move(r));
    }
  }
  if (j.contains("purged")) {
    if (!j["purged"].is_boolean())
      return Status::InvalidArgument(where + ": purged must be a boolean");
    s.purged = j["purged"].get<bool>();
  }
  BB_RETURN_IF_ERROR(CheckDecoded(s));
  *out = std::move(s);
  return Status::OK();
}

Status RecordState::CheckDecoded(const RecordState& s) {
  BB_RETURN_IF_ERROR(CheckEnvelope(s));
  std::string where = "record " + s.id;
  if (s.form_version < 1) {
    return Status::InvalidArgument(where + ": \"form_version\" must be a whole number from 1 to " +
                                   std::to_string(kMaxFormVersion));
  }
  if (s.occurred_at) {
    BB_RETURN_IF_ERROR(CheckRegisterValues(*s.occurred_at, where + ": occurred_at"));
    if (!s.occurred_at->v.is_string())
      return Status::InvalidArgument(where + ": occurred_at.v must be a string");
  }
  if (s.deleted) {
    BB_RETURN_IF_ERROR(CheckRegisterValues(*s.deleted, where + ": deleted"));
    if (!s.deleted->v.is_boolean())
      return Status::InvalidArgument(where + ": deleted.v must be a boolean");
  }
  for (const auto& [name, r] : s.fields) {
    // The message (and its string) only for a register that fails.
    if (RegisterValuesBad(r)) return CheckRegisterValues(r, where + ": field '" + name + "'");
  }
  return Status::OK();
}

json RecordState::ToRecordJson() const {
  return {{"id", id},
          {"form", form},
          {"form_version", form_version},
          {"org", org},
          {"author", author},
          {"device", device},
          {"occurred_at", OccurredAt()},
          {"fields", FieldValues()}};
}

std::optional<std::string> NaturalKeyId(const FormSet& forms, const std::string& form,
                                        const json& f, const std::string& org) {
  const FormDef* def = forms.Latest(form);
  if (def == nullptr || def->natural_key.empty()) return std::nullopt;
  std::string key = form;
  for (const auto& name : def->natural_key) {
    auto it = f.find(name);
    if (it == f.end()) return std::nullopt;
    key += "|" + it->dump();
  }
  // A return with one figure for the partnership is one record whoever enters it: no org.
  std::string org_part = org;
  if (!def->writers.owners_of.empty()) {
    auto it = f.find(def->writers.owners_of);
    const ReturnRule* rule =
        it != f.end() && it->is_string() ? forms.returns().Find(it->get<std::string>()) : nullptr;
    if (rule != nullptr && rule->combine == Combine::kOne) org_part.clear();
  }
  return DerivedUuid(key + "|" + org_part);
}

bool IsNaturalKeyShapedId(const std::string& id) {
  // xxxxxxxx-xxxx-8xxx-...: the version nibble DerivedUuid sets.
  return id.size() == 36 && id[8] == '-' && id[13] == '-' && id[14] == '8';
}

std::string CheckRecordId(const FormSet& forms, const RecordState& state) {
  const FormDef* def = forms.Latest(state.form);
  if (def == nullptr || def->natural_key.empty()) {
    if (IsNaturalKeyShapedId(state.id)) {
      return "the record id has the shape kept for partner returns; a " + state.form +
             " record may not take it";
    }
    return "";
  }
  auto key = NaturalKeyId(forms, state.form, state.FieldValues(), state.org);
  if (!key || *key != state.id) {
    std::string fields;
    for (const auto& name : def->natural_key) fields += name + ", ";
    return "the record id does not match its natural key (" + fields +
           "and the org unless the figure is one for the partnership)";
  }
  return "";
}

MergeResult Merge(RecordState* target, const RecordState& incoming) {
  MergeResult result;
  if (target->id.empty()) {
    target->id = incoming.id;
    target->form = incoming.form;
    target->form_version = incoming.form_version;
    target->org = incoming.org;
    target->author = incoming.author;
    target->device = incoming.device;
    result.changed = true;
  } else if (incoming.device < target->device) {
    // Only a record with a natural-key id can be created on two devices (a partner return entered
    // on two tablets). Its envelope names one creator, the same on every replica: the one with the
    // smaller device id, a choice that does not depend on the order of merging.
    target->author = incoming.author;
    target->device = incoming.device;
    result.changed = true;
  }
  if (target->purged) return result;  // nothing writes into a purged record
  if (incoming.purged) {
    target->occurred_at.reset();
    target->deleted.reset();
    target->fields.clear();
    target->purged = true;
    result.changed = true;
    return result;
  }
  if (incoming.occurred_at) {
    result.changed |= MergeRegister(target->id, "occurred_at", &target->occurred_at,
                                    *incoming.occurred_at, &result.conflicts);
  }
  if (incoming.deleted) {
    // A delete is final: "deleted" merges by value first (true beats false), then by stamp. Still
    // a maximum over one total order, so merging stays commutative, associative and idempotent.
    bool target_deleted = target->deleted && target->deleted->v == true;
    bool incoming_deleted = incoming.deleted->v == true;
    if (!target->deleted || incoming_deleted != target_deleted) {
      if (!target->deleted || incoming_deleted) {
        target->deleted = *incoming.deleted;
        target->deleted->b = 0;
        result.changed = true;
      }
    } else {
      result.changed |= MergeRegister(target->id, "deleted", &target->deleted, *incoming.deleted,
                                      &result.conflicts);
    }
  }
  for (const auto& [name, reg] : incoming.fields) {
    std::optional<Register> slot;
    auto it = target->fields.find(name);
    if (it != target->fields.end()) slot = it->second;
    if (MergeRegister(target->id, name, &slot, reg, &result.conflicts)) {
      target->fields[name] = *slot;
      result.changed = true;
    }
  }
  return result;
}

}  // namespace beatbook
