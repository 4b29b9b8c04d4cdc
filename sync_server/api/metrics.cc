#include "sync_server/api/metrics.h"

#include <cstdio>
#include <sstream>

namespace beatbook::server {

namespace {

// Every path the API answers (docs/protocol.md, section 3); anything else is "other".
const char* const kEndpoints[] = {
    "/v1/health",      "/v1/enrol",   "/v1/forms",     "/v1/rotate",    "/v1/signout",
    "/v1/devices",     "/v1/push",    "/v1/pull",      "/v1/owed",      "/v1/report",
    "/v1/report.xlsx", "/v1/orgs",    "/v1/approvals", "/v1/conflicts", "/v1/records",
    "/v1/approve",     "/v1/explain", "/metrics",
};

std::string Number(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9g", v);
  return text;
}

void Header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string Metrics::EndpointLabel(const std::string& path) {
  for (const char* e : kEndpoints) {
    if (path == e) return e;
  }
  if (path == "/" || path == "/dashboard" || path.rfind("/dashboard/", 0) == 0) return "/dashboard";
  if (path.rfind("/v1/attachments/", 0) == 0) return "/v1/attachments";
  return "other";
}

void Metrics::CountRequest(const std::string& path, int status) {
  std::string label = EndpointLabel(path);
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{label, status}];
}

void Metrics::CountPush(const PushCounts& counts, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (counts.replayed) return;
  pushed_ += counts.applied;
  for (const auto& [kind, n] : counts.rejected) rejected_[kind] += n;
  for (std::size_t i = 0; i < kMergeBuckets.size(); ++i) {
    if (seconds <= kMergeBuckets[i]) ++merge_buckets_[i];
  }
  ++merge_count_;
  merge_sum_ += seconds;
}

void Metrics::CountPulled(std::int64_t records) {
  std::lock_guard<std::mutex> lock(mu_);
  pulled_ += records;
}

std::string Metrics::Render(const StoreGauges& gauges) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  Header(out, "beatbook_http_requests_total", "counter",
         "Requests answered, by endpoint and HTTP status.");
  for (const auto& [key, n] : requests_) {
    out << "beatbook_http_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second
        << "\"} " << n << '\n';
  }
  Header(out, "beatbook_push_records_total", "counter",
         "Record changes applied from device pushes.");
  out << "beatbook_push_records_total " << pushed_ << '\n';
  Header(out, "beatbook_pull_records_total", "counter", "Record states sent to devices by pulls.");
  out << "beatbook_pull_records_total " << pulled_ << '\n';
  Header(out, "beatbook_rejected_records_total", "counter",
         "Record changes refused, by kind: permission (who may write what) or invalid (breaks "
         "the form's rules).");
  for (const char* kind : {"permission", "invalid"}) {
    auto it = rejected_.find(kind);
    out << "beatbook_rejected_records_total{reason=\"" << kind << "\"} "
        << (it == rejected_.end() ? 0 : it->second) << '\n';
  }
  Header(out, "beatbook_merge_seconds", "histogram",
         "Time to check, merge and commit one push batch.");
  for (std::size_t i = 0; i < kMergeBuckets.size(); ++i) {
    out << "beatbook_merge_seconds_bucket{le=\"" << Number(kMergeBuckets[i]) << "\"} "
        << merge_buckets_[i] << '\n';
  }
  out << "beatbook_merge_seconds_bucket{le=\"+Inf\"} " << merge_count_ << '\n';
  out << "beatbook_merge_seconds_sum " << Number(merge_sum_) << '\n';
  out << "beatbook_merge_seconds_count " << merge_count_ << '\n';
  Header(out, "beatbook_devices", "gauge", "Enrolled devices, not revoked.");
  out << "beatbook_devices " << gauges.devices << '\n';
  Header(out, "beatbook_devices_not_synced", "gauge",
         "Enrolled devices that have not synced for at least this many days.");
  for (const auto& [days, n] : gauges.quiet_for) {
    out << "beatbook_devices_not_synced{days=\"" << days << "\"} " << n << '\n';
  }
  Header(out, "beatbook_store_bytes", "gauge", "Size of the central store on disk, in bytes.");
  out << "beatbook_store_bytes " << gauges.store_bytes << '\n';
  Header(out, "beatbook_backup_age_seconds", "gauge",
         "Seconds since the last backup (-1: the store was never backed up).");
  out << "beatbook_backup_age_seconds "
      << (gauges.last_backup_ms ? (gauges.now_ms - gauges.last_backup_ms) / 1000 : -1) << '\n';
  return out.str();
}

}  // namespace beatbook::server
