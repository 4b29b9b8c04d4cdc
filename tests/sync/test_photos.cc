// Photos through the real engine and Api (docs/protocol.md, section 8): uploaded after their
// record in chunks, resumed after a cut link, checked against their name by the server, refused
// when changed on the way, shown to the coordinator only (audited), and gone with their record.
#include <doctest/doctest.h>

#include <optional>

#include "beatbook/attachment.h"
#include "beatbook/crypto.h"
#include "beatbook/tunables.h"
#include "support/test_images.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

// Passes requests on, but cuts the link after `chunks_allowed` photo chunks, or changes one
// byte of every chunk sent (a proxy tampering with it on the way).
class PhotoLink : public sync::Transport {
 public:
  explicit PhotoLink(server::Api* api) : inner_(api) {}
  Status Send(const sync::HttpRequest& request, sync::HttpResponse* response) override {
    sync::HttpRequest sent = request;
    if (request.method == "PUT") {
      if (chunks_allowed >= 0 && chunks_sent >= chunks_allowed) {
        return Status::Unavailable("injected: the link is cut");
      }
      ++chunks_sent;
      bytes_sent += static_cast<std::int64_t>(request.body.size());
      if (tamper) sent.body[sent.body.size() / 2] ^= 0x20;
    }
    return inner_.Send(sent, response);
  }
  int chunks_allowed = -1;  // -1: no cut
  int chunks_sent = 0;
  std::int64_t bytes_sent = 0;
  bool tamper = false;

 private:
  InProcessTransport inner_;
};

std::string Patrol(Device& d) {
  return d.Log("patrol", {{"place", "Jewry Street"}, {"patrol_type", "hotspot"}});
}

// Photo `name` as the server stores it; nullopt while it is not stored.
std::optional<std::string> OnServer(SyncFixture& f, const std::string& name) {
  std::string bytes;
  bool found = false;
  REQUIRE(f.central->ReadAttachment(name, &bytes, &found).ok());
  if (!found) return std::nullopt;
  return bytes;
}

server::ApiResponse Call(SyncFixture& f, const std::string& bearer, const std::string& method,
                         const std::string& target, const std::string& body = "") {
  return f.api->Handle({method, target, body, bearer});
}

}  // namespace

TEST_CASE("a photo goes up after its record and the coordinator sees it, audited") {
  SyncFixture f;
  auto link = std::make_unique<PhotoLink>(f.api.get());
  PhotoLink* wire = link.get();
  Device pat = f.Enrol("pat", "police", "field_worker", std::move(link));
  std::string id = Patrol(pat);
  std::string name;
  const std::string photo = test::WithGps(test::TestJpeg());
  REQUIRE(pat.store->Attach(id, "photo", photo, &name).ok());

  sync::SyncSummary summary;
  Status s = pat.Sync(&summary);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(summary.photos_uploaded == 1);
  CHECK(summary.photos_waiting == 0);
  CHECK(wire->chunks_sent == 1);
  AttachmentState state;
  REQUIRE(pat.store->GetAttachmentState(name, &state).ok());
  CHECK(state == AttachmentState::kUploaded);

  // The server holds the device's bytes, without the location.
  const std::optional<std::string> stored = OnServer(f, name);
  REQUIRE(stored);
  CHECK(Sha256Hex(*stored) + ".jpg" == name);
  ImageInfo info;
  REQUIRE(InspectImage(*stored, &info).ok());
  CHECK_FALSE(info.has_location);

  std::string cleo = f.DashboardSignIn("cleo", "csp", "coordinator");
  const std::string target = "/v1/attachments/" + name + "?record=" + id;
  server::ApiResponse seen = Call(f, cleo, "GET", target);
  REQUIRE(seen.status == 200);
  CHECK(seen.raw == *stored);
  CHECK(seen.content_type == "image/jpeg");
  std::vector<server::AuditEvent> audit;
  REQUIRE(f.central->ReadAudit({0, "cleo", "", "attachment_view", 10}, &audit).ok());
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].detail["record_id"] == id);

  // The records table says which photos are there.
  server::ApiResponse table = Call(f, cleo, "GET", "/v1/records?form=patrol");
  REQUIRE(table.status == 200);
  CHECK(table.body["attachments"][name] == "stored");

  // Nobody else reads photos: the worker's own device and a board member are refused.
  CHECK(Call(f, pat.Bearer(), "GET", target).status == 403);
  std::string board = f.DashboardSignIn("bo", "csp", "board");
  CHECK(Call(f, board, "GET", target).status == 403);
}

TEST_CASE("an upload cut off resumes where the server's copy ends") {
  SyncFixture f;
  auto link = std::make_unique<PhotoLink>(f.api.get());
  PhotoLink* wire = link.get();
  Device pat = f.Enrol("pat", "police", "field_worker", std::move(link));
  std::string id = Patrol(pat);
  const std::string photo = test::TestPng(600, 400, 42);  // 720,000 bytes: three chunks
  REQUIRE(photo.size() > 2 * tunables::kAttachmentChunkBytes);
  std::string name;
  REQUIRE(pat.store->Attach(id, "photo", photo, &name).ok());

  wire->chunks_allowed = 1;
  sync::SyncSummary first;
  Status s = pat.Sync(&first);
  CHECK(s.IsUnavailable());
  AttachmentState state;
  REQUIRE(pat.store->GetAttachmentState(name, &state).ok());
  CHECK(state == AttachmentState::kWaiting);
  // The record is there; its photo says it is not.
  std::string cleo = f.DashboardSignIn("cleo", "csp", "coordinator");
  server::ApiResponse table = f.api->Handle({"GET", "/v1/records?form=patrol", "", cleo});
  CHECK(table.body["attachments"][name] == "not_uploaded");
  CHECK(f.api->Handle({"GET", "/v1/attachments/" + name + "?record=" + id, "", cleo}).status ==
        404);

  wire->chunks_allowed = -1;
  const std::int64_t before = wire->bytes_sent;
  sync::SyncSummary second;
  s = pat.Sync(&second);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(second.photos_resumed == 1);
  CHECK(second.photos_uploaded == 1);
  // Only what the server lacked went the second time.
  CHECK(wire->bytes_sent - before ==
        static_cast<std::int64_t>(photo.size() - tunables::kAttachmentChunkBytes));
  CHECK(second.photo_bytes_sent == wire->bytes_sent - before);
  CHECK(OnServer(f, name) == photo);
}

TEST_CASE("a photo changed on the way is refused whole, and sent again right") {
  SyncFixture f;
  auto link = std::make_unique<PhotoLink>(f.api.get());
  PhotoLink* wire = link.get();
  Device pat = f.Enrol("pat", "police", "field_worker", std::move(link));
  std::string id = Patrol(pat);
  std::string name;
  REQUIRE(pat.store->Attach(id, "photo", test::TestJpeg(), &name).ok());

  wire->tamper = true;
  sync::SyncSummary summary;
  REQUIRE(pat.Sync(&summary).ok());  // the rest of the sync is not held up
  CHECK(summary.photos_uploaded == 0);
  CHECK(summary.photos_waiting == 1);
  REQUIRE(summary.photo_problems.size() == 1);
  CHECK(summary.photo_problems[0].find("do not hash to the photo's name") != std::string::npos);
  CHECK_FALSE(OnServer(f, name));
  server::UploadProgress progress;
  REQUIRE(f.central->ReadUploadProgress(pat.store->identity().device_id, name, &progress).ok());
  CHECK(progress.received == 0);  // the bad chunks were dropped

  wire->tamper = false;
  REQUIRE(pat.Sync(&summary).ok());
  CHECK(OnServer(f, name));
}

TEST_CASE("the server takes only photos a device's own records name, chunk by chunk") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  Device sam = f.Enrol("sam", "street_pastors", "field_worker");
  std::string id = Patrol(pat);
  std::string name;
  const std::string photo = test::TestJpeg();
  REQUIRE(pat.store->Attach(id, "photo", photo, &name).ok());
  REQUIRE(pat.Sync().ok());  // uploads it
  std::string other = Patrol(pat);
  std::string png_name;
  const std::string png = test::TestPng(30, 30, 3);
  REQUIRE(pat.store->Attach(other, "photo", png, &png_name).ok());
  sync::SyncSummary summary;
  // Push the record only: its photo is sent by hand below.
  sync::SyncEngine engine(pat.store.get(), pat.transport.get());
  REQUIRE(engine.Push(&summary).ok());

  const std::string upload = "/v1/attachments/" + png_name + "/upload?record=" + other;
  const std::string total = std::to_string(png.size());
  auto put = [&](Device& d, const std::string& target, const std::string& body) {
    return f.api->Handle({"PUT", target, body, d.Bearer()});
  };
  // Another org's device is told there is no such record.
  server::ApiResponse r = put(sam, upload + "&offset=0&total=" + total, png.substr(0, 100));
  CHECK(r.status == 404);
  CHECK(f.api->Handle({"GET", upload, "", sam.Bearer()}).status == 404);
  // A name the record does not hold, a malformed name, a missing record.
  CHECK(put(pat,
            "/v1/attachments/" + std::string(64, 'c') + ".png/upload?record=" + other +
                "&offset=0&total=10",
            "0123456789")
            .status == 404);
  CHECK(put(pat, "/v1/attachments/..%2Fsecret/upload?record=" + other + "&offset=0&total=1", "x")
            .status == 400);
  CHECK(put(pat, "/v1/attachments/" + png_name + "/upload?offset=0&total=1", "x").status == 400);
  // Sizes: over the limit, a chunk past the end, a bad offset.
  r = put(pat, upload + "&offset=0&total=" + std::to_string(tunables::kMaxAttachmentBytes + 1),
          "x");
  CHECK(r.status == 413);
  CHECK(put(pat, upload + "&offset=0&total=5", "123456").status == 400);
  CHECK(put(pat, upload + "&offset=0&total=x", "1").status == 400);
  r = put(pat, upload + "&offset=10&total=" + total, png.substr(10, 10));
  CHECK(r.status == 409);
  CHECK(r.body["received"] == 0);
  // Two good chunks complete it.
  r = put(pat, upload + "&offset=0&total=" + total, png.substr(0, 1000));
  REQUIRE(r.status == 200);
  CHECK(r.body["received"] == 1000);
  CHECK(r.body["complete"] == false);
  r = put(pat, upload + "&offset=1000&total=" + total, png.substr(1000));
  REQUIRE(r.status == 200);
  CHECK(r.body["complete"] == true);
  // Once stored, asking again says so.
  CHECK(f.api->Handle({"GET", upload, "", pat.Bearer()}).body["complete"] == true);
}

TEST_CASE("retention removes a record's photo from the server and from devices") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  Device cleo = f.Enrol("cleo", "csp", "coordinator");
  std::string id = Patrol(pat);
  std::string name;
  REQUIRE(pat.store->Attach(id, "photo", test::TestJpeg(), &name).ok());
  REQUIRE(pat.Sync().ok());
  REQUIRE(cleo.Sync().ok());
  REQUIRE(OnServer(f, name));

  server::AuditEvent audit{0, 1, "operator", "operator", "", "", "purge", {}};
  REQUIRE(f.central->PurgeRecords({id}, 0, audit).ok());
  CHECK_FALSE(OnServer(f, name));
  REQUIRE(pat.Sync().ok());
  std::string bytes;
  CHECK(pat.store->ReadAttachment(name, &bytes).IsNotFound());
}

TEST_CASE("a stored photo stays while any record names it, and goes once none does") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  const std::string jpeg = test::TestJpeg();
  std::string r1 = Patrol(pat), r2 = Patrol(pat);
  std::string p, p_again, q;
  REQUIRE(pat.store->Attach(r1, "photo", jpeg, &p).ok());
  REQUIRE(pat.store->Attach(r2, "photo", jpeg, &p_again).ok());  // the same picture twice
  REQUIRE(p == p_again);
  REQUIRE(pat.Sync().ok());
  auto stored = [&](const std::string& name) { return OnServer(f, name).has_value(); };
  REQUIRE(stored(p));
  server::AuditEvent audit{0, 1, "operator", "operator", "", "", "purge", {}};
  REQUIRE(f.central->PurgeRecords({r1}, 0, audit).ok());
  CHECK(stored(p));  // r2 still names it

  // r2's photo is replaced: the old one goes at the next purge, the new one stays.
  REQUIRE(pat.store->Attach(r2, "photo", test::TestPng(16, 16, 5), &q).ok());
  REQUIRE(pat.Sync().ok());
  REQUIRE(stored(q));
  REQUIRE(f.central->PurgeRecords({}, 0, audit).ok());
  CHECK_FALSE(stored(p));
  CHECK(stored(q));
}

TEST_CASE("an upload whose bytes all arrived but was never finished is finished when asked") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  std::string id = Patrol(pat);
  std::string name;
  REQUIRE(pat.store->Attach(id, "photo", test::TestJpeg(), &name).ok());
  sync::SyncEngine engine(pat.store.get(), pat.transport.get());
  sync::SyncSummary summary;
  REQUIRE(engine.Push(&summary).ok());
  // The server took every byte, then stopped before checking and storing them.
  std::string bytes;
  REQUIRE(pat.store->ReadAttachment(name, &bytes).ok());
  const std::string device = pat.store->identity().device_id;
  const auto total = static_cast<std::int64_t>(bytes.size());
  REQUIRE(f.central->AddUploadPart(device, name, 0, total, bytes, 1).ok());

  server::ApiResponse r =
      f.api->Handle({"GET", "/v1/attachments/" + name + "/upload?record=" + id, "", pat.Bearer()});
  REQUIRE(r.status == 200);
  CHECK(r.body["complete"] == true);
  const std::optional<std::string> stored = OnServer(f, name);
  CHECK(stored);
  CHECK(stored == bytes);
}

TEST_CASE("a restored server is asked again about every photo this device sent") {
  SyncFixture f;
  Device pat = f.Enrol("pat", "police", "field_worker");
  std::string id = Patrol(pat);
  std::string name;
  REQUIRE(pat.store->Attach(id, "photo", test::TestJpeg(), &name).ok());
  REQUIRE(pat.Sync().ok());
  bool changed = false;
  std::int64_t resent = 0;
  REQUIRE(pat.store->NoteServerEpoch("a-restored-store", &changed, &resent).ok());
  REQUIRE(changed);
  AttachmentState state;
  REQUIRE(pat.store->GetAttachmentState(name, &state).ok());
  CHECK(state == AttachmentState::kWaiting);
}
