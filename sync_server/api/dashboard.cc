// The endpoints the dashboard uses beyond the sync protocol's (docs/protocol.md, section 3a), and
// the dashboard's own files.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

#include "beatbook/datetime.h"
#include "sync_server/api/api.h"
#include "sync_server/api/dashboard_files.h"
#include "sync_server/api/query.h"
#include "sync_server/report/quarterly_return.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

json IsoOrNull(std::int64_t ms) { return ms ? json(FormatIsoUtc(ms)) : json(nullptr); }

ApiResponse Redirect(const std::string& location) {
  ApiResponse r(302, json::object());
  r.content_type = "text/plain; charset=utf-8";
  r.raw = "see " + location + "\n";
  r.headers.push_back({"Location", location});
  return r;
}

// The workbook WriteXlsx makes, read back from a temporary file (libxlsxwriter writes files).
Status WorkbookBytes(const Catalogue& catalogue, const json& report, std::string* out) {
  char path[] = "/tmp/beatbook-return-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return Status::IoError("cannot make a temporary file for the workbook");
  ::close(fd);
  Status s = WriteXlsx(catalogue, report, path);
  if (s.ok()) {
    std::ifstream in(path, std::ios::binary);
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (out->empty()) s = Status::IoError("the workbook came out empty");
  }
  std::remove(path);
  return s;
}

}  // namespace

ApiResponse Api::DashboardFile(const ApiRequest& request, const std::string& path) {
  if (request.method != "GET") return Error(405, "use GET for " + path);
  if (path == "/" || path == "/dashboard") return Redirect("/dashboard/");
  std::string name = path.substr(std::string("/dashboard/").size());
  if (name.empty()) name = "index.html";
  const http::StaticFile* file = FindDashboardFile(name);
  if (!file) return Error(404, "no dashboard file " + name);
  ApiResponse r(200, json::object());
  r.raw = std::string(file->content);
  r.content_type = http::ContentTypeFor(name);
  r.headers.push_back({"Content-Security-Policy", kDashboardCsp});
  r.headers.push_back({"Cache-Control", "no-cache"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"X-Frame-Options", "DENY"});
  return r;
}

ApiResponse Api::Orgs() {
  json orgs = json::array(), labels = json::object();
  if (const auto* list = forms_->List("org")) {
    for (const auto& c : *list) {
      orgs.push_back(c.code);
      labels[c.code] = c.label;
    }
  }
  return {200, {{"orgs", orgs}, {"labels", labels}}};
}

ApiResponse Api::Devices(const DeviceInfo& device) {
  std::vector<DeviceInfo> devices;
  std::vector<StoredRejection> rejections;
  Status s = store_->ListDevices(&devices);
  if (s.ok()) s = store_->Rejections(&rejections);
  if (!s.ok()) return Error(HttpStatusFor(s), s.message());
  std::map<std::string, std::vector<const StoredRejection*>> by_device;
  for (const auto& r : rejections) by_device[r.device_id].push_back(&r);
  // Reasons quote values, which are record content: an admin sees only how many.
  bool reasons = device.role == Role::kCoordinator;
  json list = json::array();
  for (const auto& d : devices) {
    const auto& mine = by_device[d.id];
    json shown = json::array();
    // The most recent few, newest first: enough to see what goes wrong.
    for (auto it = mine.rbegin(); reasons && it != mine.rend() && shown.size() < 20; ++it) {
      shown.push_back({{"record_id", (*it)->record_id},
                       {"reason", (*it)->reason},
                       {"at", FormatIsoUtc((*it)->at_ms)}});
    }
    json entry = {{"id", d.id},
                  {"name", d.name},
                  {"user", d.user},
                  {"org", d.org},
                  {"role", RoleName(d.role)},
                  {"client", d.client},
                  {"enrolled_at", IsoOrNull(d.enrolled_ms)},
                  {"last_sync", IsoOrNull(d.last_sync_ms)},
                  {"pending_at_last_sync", d.pending_at_last_sync},
                  {"revoked", d.revoked},
                  {"rejected", mine.size()}};
    if (reasons) entry["rejections"] = std::move(shown);
    list.push_back(std::move(entry));
  }
  if (Status a = Audit(device, "devices", {{"devices", devices.size()}}); !a.ok()) {
    return AuditFailed(a);
  }
  return {200, {{"devices", list}}};
}

ApiResponse Api::Conflicts(const DeviceInfo& device) {
  std::vector<StoredConflict> conflicts;
  if (Status s = store_->Conflicts(&conflicts); !s.ok())
    return Error(HttpStatusFor(s), s.message());
  json list = json::array();
  for (const auto& c : conflicts) {
    bool withheld = forms_->AnyMarksSensitive(c.conflict.field);
    json kept = withheld ? json("(withheld: sensitive field)") : c.conflict.winner.v;
    json lost = withheld ? json("(withheld: sensitive field)") : c.conflict.loser.v;
    list.push_back({{"record_id", c.conflict.record_id},
                    {"field", c.conflict.field},
                    {"kept", kept},
                    {"lost", lost},
                    {"kept_device", c.conflict.winner.d},
                    {"lost_device", c.conflict.loser.d},
                    {"withheld", withheld},
                    {"at", FormatIsoUtc(c.at_ms)}});
  }
  if (Status a = Audit(device, "conflicts", {{"conflicts", conflicts.size()}}); !a.ok()) {
    return AuditFailed(a);
  }
  return {200, {{"conflicts", list}}};
}

ApiResponse Api::Approvals(const std::string& query) {
  int fy = 0;
  std::optional<int> quarter;
  std::string error;
  if (!ReadPeriod(QueryParam(query, "fy"), std::nullopt, &fy, &quarter, &error)) {
    return Error(400, error);
  }
  std::vector<Approval> approvals;
  if (Status s = store_->Approvals(fy, &approvals); !s.ok()) {
    return Error(HttpStatusFor(s), s.message());
  }
  json list = json::array();
  for (const auto& a : approvals) {
    list.push_back({{"fy", a.fy},
                    {"quarter", "Q" + std::to_string(a.quarter)},
                    {"kind", a.kind},
                    {"by", a.user},
                    {"at", FormatIsoUtc(a.at_ms)}});
  }
  return {200, {{"approvals", list}}};
}

ApiResponse Api::ReportWorkbook(const DeviceInfo& device, const std::string& query) {
  json report, period;
  if (ApiResponse error; !ReadReport(query, &report, &period, &error)) return error;
  std::string bytes;
  if (Status s = WorkbookBytes(*catalogue_, report, &bytes); !s.ok()) {
    return Error(HttpStatusFor(s), s.message());
  }
  period["format"] = "xlsx";
  if (Status a = Audit(device, "report", period); !a.ok()) return AuditFailed(a);
  std::string org = period.value("org", "");
  ApiResponse r(200, json::object());
  r.raw = std::move(bytes);
  r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  r.headers.push_back({"Content-Disposition", "attachment; filename=\"beatbook-return-" +
                                                  period["fy"].dump() +
                                                  (org.empty() ? "" : "-" + org) + ".xlsx\""});
  return r;
}

ApiResponse Api::SignOut(const DeviceInfo& device) {
  if (device.client != "dashboard") {
    return Error(403,
                 "only a dashboard sign-in can sign itself out; tablets are revoked by the "
                 "partnership (sync_server revoke)");
  }
  AuditEvent audit{0,          clock_->NowMs(), device.user, RoleName(device.role),
                   device.org, device.id,       "signout",   json::object()};
  DeviceInfo revoked;
  if (Status s = store_->RevokeDevice(device.id, &revoked, &audit); !s.ok()) {
    return Error(HttpStatusFor(s), s.message());
  }
  return {200, {{"signed_out", device.id}}};
}

bool Api::ValidOrg(const std::string& org) const {
  const auto* list = forms_->List("org");
  if (!list) return true;
  for (const auto& c : *list) {
    if (c.code == org) return true;
  }
  return false;
}

}  // namespace beatbook::server
