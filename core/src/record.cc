#include "beatbook/record.h"

#include <algorithm>

#include "beatbook/crypto.h"

namespace beatbook {

namespace {

json RegisterToJson(const Register& r, bool with_base) {
  json j = {{"v", r.v}, {"t", r.t}, {"d", r.d}};
  if (with_base && r.b != 0) j["b"] = r.b;
  return j;
}

Status RegisterFromJson(const json& j, const std::string& where, Register* out) {
  if (!j.is_object() || !j.contains("v") || !j.contains("t") || !j.contains("d")) {
    return Status::InvalidArgument(where + " must be an object with \"v\", \"t\" and \"d\"");
  }
  if (!j["t"].is_number_integer() || j["t"].get<std::int64_t>() <= 0) {
    return Status::InvalidArgument(where + ".t must be a positive integer stamp");
  }
  if (!j["d"].is_string() || j["d"].get<std::string>().empty()) {
    return Status::InvalidArgument(where + ".d must be a device id");
  }
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

Status RecordState::FromJson(const json& j, RecordState* out) {
  if (!j.is_object()) return Status::InvalidArgument("a record state must be a JSON object");
  RecordState s;
  auto str = [&](const char* key, std::string* dst) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Status::InvalidArgument(std::string("record state: \"") + key +
                                     "\" must be a non-empty string");
    }
    *dst = it->get<std::string>();
    return Status::OK();
  };
  BB_RETURN_IF_ERROR(str("id", &s.id));
  BB_RETURN_IF_ERROR(str("form", &s.form));
  BB_RETURN_IF_ERROR(str("org", &s.org));
  BB_RETURN_IF_ERROR(str("author", &s.author));
  BB_RETURN_IF_ERROR(str("device", &s.device));
  std::string where = "record " + s.id;
  if (!j.contains("form_version") || !j["form_version"].is_number_integer()) {
    return Status::InvalidArgument(where + ": \"form_version\" must be an integer");
  }
  s.form_version = j["form_version"].get<int>();
  if (j.contains("occurred_at")) {
    Register r;
    BB_RETURN_IF_ERROR(RegisterFromJson(j["occurred_at"], where + ": occurred_at", &r));
    if (!r.v.is_string())
      return Status::InvalidArgument(where + ": occurred_at.v must be a string");
    s.occurred_at = r;
  }
  if (j.contains("deleted")) {
    Register r;
    BB_RETURN_IF_ERROR(RegisterFromJson(j["deleted"], where + ": deleted", &r));
    if (!r.v.is_boolean()) return Status::InvalidArgument(where + ": deleted.v must be a boolean");
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
  *out = std::move(s);
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

std::optional<std::string> NaturalKeyId(const std::string& form, const json& f,
                                        const std::string& org) {
  if (form != "indicator_return") return std::nullopt;
  if (!f.contains("indicator") || !f.contains("fy") || !f.contains("quarter")) return std::nullopt;
  return DerivedUuid("indicator_return|" + f["indicator"].dump() + "|" + f["fy"].dump() + "|" +
                     f["quarter"].dump() + "|" + org);
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
    result.changed |= MergeRegister(target->id, "deleted", &target->deleted, *incoming.deleted,
                                    &result.conflicts);
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
