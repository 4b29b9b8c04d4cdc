// The safeguarding queue's endpoints (docs/safeguarding.md): GET /v1/safeguarding lists every
// concern with the record's answers, labelled; POST /v1/safeguarding/acknowledge and
// /v1/safeguarding/action take the coordinator's two steps. Each view and each step is audited.
#include <algorithm>

#include "beatbook/datetime.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"
#include "sync_server/api/api.h"
#include "sync_server/report/returns_check.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;

// `text` without the spaces and line breaks around it.
std::string Trim(const std::string& text) {
  const char* space = " \t\r\n";
  std::size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// A value as a person reads it: Yes/No, choice labels rather than codes.
std::string ShownValue(const FieldDef& field, const json& value) {
  auto label = [&](const json& code) {
    for (const auto& c : field.choices) {
      if (code.is_string() && c.code == code.get<std::string>()) return c.label;
    }
    return code.is_string() ? code.get<std::string>() : code.dump();
  };
  if (value.is_boolean()) return value.get<bool>() ? "Yes" : "No";
  if (value.is_array()) {
    std::string shown;
    for (const auto& code : value) shown += (shown.empty() ? "" : ", ") + label(code);
    return shown;
  }
  return label(value);
}

// The record's answers in its form's order, labelled. Person keys (a hash) are left out.
json Answers(const FormDef* def, const RecordState& record) {
  json answers = json::array();
  if (def == nullptr) return answers;
  for (const auto& field : def->fields) {
    auto it = record.fields.find(field.name);
    if (it == record.fields.end() || it->second.v.is_null() || field.format == "keyed_hash") {
      continue;
    }
    answers.push_back({{"field", field.name},
                       {"label", field.label.empty() ? field.name : field.label},
                       {"value", ShownValue(field, it->second.v)},
                       {"sensitive", field.sensitive}});
  }
  return answers;
}

std::string IsoOrEmpty(std::int64_t ms) { return ms > 0 ? FormatIsoUtc(ms) : ""; }

// Characters (code points) in UTF-8 `text`, as the page's box counts them for the limit.
std::size_t Characters(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace

ApiResponse Api::Safeguarding(const DeviceInfo& device) {
  std::vector<SafeguardingConcern> concerns;
  if (Status s = store_->Concerns(&concerns); !s.ok()) {
    return Error(HttpStatusFor(s), s.message());
  }
  const std::int64_t now = clock_->NowMs();
  const std::int64_t overdue_ms = tunables::kSafeguardingAcknowledgeHours * kHourMs;
  OrgLabels orgs = OrgLabelsOf(*forms_);
  json list = json::array();
  json ids = json::array();
  bool sensitive_shown = false;
  std::int64_t waiting = 0, overdue = 0;
  for (const auto& c : concerns) {
    const RecordState& r = c.record;
    // A version this server no longer has: its latest, for the labels and the question.
    const FormDef* def = forms_->Find(r.form, r.form_version);
    if (def == nullptr) def = forms_->Latest(r.form);
    bool acknowledged = c.acknowledged_ms > 0;
    // Never negative, when the server reading the queue is behind the one that raised it.
    std::int64_t waited_ms = std::max<std::int64_t>(0, now - c.raised_ms);
    bool late = !acknowledged && waited_ms > overdue_ms;
    waiting += acknowledged ? 0 : 1;
    overdue += late ? 1 : 0;
    auto org = orgs.find(c.org);
    json answers = Answers(def, r);
    for (const auto& a : answers) sensitive_shown = sensitive_shown || a["sensitive"] == true;
    json actions = json::array();
    for (const auto& a : c.actions) {
      actions.push_back({{"action", a.text}, {"at", FormatIsoUtc(a.at_ms)}, {"by", a.by}});
    }
    list.push_back({{"record_id", c.record_id},
                    {"form", def != nullptr && !def->label.empty() ? def->label : r.form},
                    {"org", c.org},
                    {"org_label", org != orgs.end() ? org->second : c.org},
                    {"worker", r.author},
                    {"occurred_at", r.OccurredAt()},
                    {"raised_at", FormatIsoUtc(c.raised_ms)},
                    {"hours_waiting", acknowledged ? 0 : waited_ms / kHourMs},
                    {"overdue", late},
                    {"still_raised", def != nullptr && def->RaisesSafeguardingConcern(r)},
                    {"acknowledged_at", IsoOrEmpty(c.acknowledged_ms)},
                    {"acknowledged_by", c.acknowledged_by},
                    {"action", c.action},
                    {"action_at", IsoOrEmpty(c.action_ms)},
                    {"action_by", c.action_by},
                    {"actions", actions},
                    {"answers", answers}});
    ids.push_back(c.record_id);
  }
  // Every view of the queue is audited, with the records it showed: no entry, nothing shown.
  json detail = {{"records", ids}};
  if (sensitive_shown) detail["sensitive_shown"] = true;  // fields a form marks sensitive
  if (Status a = Audit(device, "safeguarding_view", detail); !a.ok()) {
    return AuditFailed(a);
  }
  return {200,
          {{"concerns", list},
           {"waiting", waiting},
           {"overdue", overdue},
           {"acknowledge_within_hours", tunables::kSafeguardingAcknowledgeHours}}};
}

ApiResponse Api::FollowUpConcern(const DeviceInfo& device, const ApiRequest& request,
                                 ConcernStep step) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Error(400, "the body must be a JSON object");
  auto id = body.find("record_id");
  if (id == body.end() || !id->is_string() || id->get<std::string>().empty() ||
      id->get<std::string>().size() > 64) {
    return Error(400, "\"record_id\" must name the record whose concern this is");
  }
  std::string action;
  if (step == ConcernStep::kRecordAction) {
    auto a = body.find("action");
    if (a == body.end() || !a->is_string() || Trim(a->get<std::string>()).empty()) {
      return Error(400, "\"action\" must say what was done about the concern");
    }
    action = Trim(a->get<std::string>());
    if (Characters(action) > tunables::kMaxSafeguardingActionLength) {
      return Error(400, "\"action\" is longer than " +
                            std::to_string(tunables::kMaxSafeguardingActionLength) +
                            " characters: keep it to what was done, and by whom");
    }
    if (std::string bad = ForbiddenCharacterIn(action, /*line_breaks=*/true); !bad.empty()) {
      return Error(400, "\"action\" holds a control or text-direction character (" + bad + ")");
    }
  }
  const std::string record_id = id->get<std::string>();
  const std::int64_t now = clock_->NowMs();
  // The audit entry says who did which step when; the action's words stay on the queue only.
  AuditEvent audit{
      0,
      now,
      device.user,
      RoleName(device.role),
      device.org,
      device.id,
      step == ConcernStep::kAcknowledge ? "safeguarding_acknowledge" : "safeguarding_action",
      {{"record", record_id}}};
  Status s = store_->FollowUpConcern(record_id, step, device.user, action, now, audit);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  return {200, {{"record_id", record_id}, {"at", FormatIsoUtc(now)}}};
}

}  // namespace beatbook::server
