// Photos on the device: the bytes decide the type, the location is removed before the photo is
// named, the photo is sealed, a changed one is found out, and photos nothing names go.
#include <doctest/doctest.h>

#include "beatbook/attachment.h"
#include "beatbook/crypto.h"
#include "beatbook/local_store.h"
#include "beatbook/sqlite_db.h"
#include "beatbook/tunables.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"
#include "support/test_images.h"

using namespace beatbook;

namespace {

struct PhotoDevice {
  PhotoDevice() : clock(1'700'000'000'000) {
    REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
    Identity id;
    id.user = "pat";
    id.org = "police";
    id.device_id = "dev-p";
    LocalStoreOptions options;
    options.clock = &clock;
    Status s = LocalStore::Create(dir.path(), id, forms, options, &store);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  std::string Patrol() {
    std::string id;
    Status s = store->Log({"patrol",
                           {{"place", "Jewry Street"}, {"patrol_type", "high_visibility"}},
                           {},
                           {},
                           {},
                           {},
                           {}},
                          &id);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return id;
  }
  test::TempDir dir;
  ManualClock clock;
  FormSet forms;
  std::unique_ptr<LocalStore> store;
};

}  // namespace

TEST_CASE("a photo's type comes from its bytes, and anything else is refused in words") {
  ImageInfo info;
  REQUIRE(InspectImage(test::TestJpeg(), &info).ok());
  CHECK(info.extension == "jpg");
  CHECK(info.mime == "image/jpeg");
  CHECK(info.width == 32);
  CHECK(info.height == 24);
  CHECK_FALSE(info.has_location);
  REQUIRE(InspectImage(test::TestPng(40, 30), &info).ok());
  CHECK(info.extension == "png");
  CHECK(info.width == 40);

  Status s = InspectImage("%PDF-1.4 not a photo at all", &info);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("not a JPEG or PNG") != std::string::npos);
  CHECK(InspectImage("", &info).message().find("empty") != std::string::npos);
  std::string png = test::TestPng(40, 30);
  s = InspectImage(png.substr(0, png.size() / 2), &info);
  CHECK(s.message().find("cut short") != std::string::npos);
  // A JPEG's first bytes on a text file are still not a JPEG.
  CHECK_FALSE(InspectImage(std::string("\xff\xd8\xff") + "hello", &info).ok());
  std::string huge(tunables::kMaxAttachmentBytes + 1, 'x');
  s = InspectImage(test::TestJpeg() + huge, &info);
  CHECK(s.message().find("largest taken is 10 MiB") != std::string::npos);
}

TEST_CASE("a photo's location is removed and nothing else") {
  for (const std::string& plain : {test::TestJpeg(), test::TestPng(20, 10)}) {
    std::string tagged = test::WithGps(plain);
    ImageInfo info;
    REQUIRE(InspectImage(tagged, &info).ok());
    REQUIRE(info.has_location);

    PreparedAttachment photo;
    REQUIRE(PrepareAttachment(tagged, /*keep_location=*/false, &photo).ok());
    CHECK_FALSE(photo.info.has_location);
    CHECK(photo.info.width == info.width);
    CHECK(test::Orientation(photo.bytes) == 6);  // other metadata stays
    CHECK(photo.name == Sha256Hex(photo.bytes) + "." + info.extension);
    CHECK(IsAttachmentName(photo.name));
    CHECK(CheckAttachment(photo.name, photo.bytes, false).ok());

    // A question that keeps locations keeps the bytes as they came.
    PreparedAttachment kept;
    REQUIRE(PrepareAttachment(tagged, /*keep_location=*/true, &kept).ok());
    CHECK(kept.bytes == tagged);
    CHECK(kept.info.has_location);
    Status s = CheckAttachment(kept.name, kept.bytes, /*keep_location=*/false);
    CHECK(s.message().find("location") != std::string::npos);
    CHECK(CheckAttachment(kept.name, kept.bytes, /*keep_location=*/true).ok());
  }
}

TEST_CASE("the server's check: the name is the hash, and the extension the bytes' type") {
  std::string jpeg = test::TestJpeg(), png = test::TestPng(8, 8);
  const std::string jpeg_name = AttachmentName(jpeg, "jpg");
  CHECK(CheckAttachment(jpeg_name, jpeg, false).ok());
  std::string changed = jpeg;
  changed[changed.size() / 2] ^= 0x01;
  Status s = CheckAttachment(jpeg_name, changed, false);
  CHECK(s.message().find("do not hash to the photo's name") != std::string::npos);
  // PNG bytes under a .jpg name whose hash is right.
  s = CheckAttachment(Sha256Hex(png) + ".jpg", png, false);
  CHECK(s.message().find("image/png") != std::string::npos);
  CHECK_FALSE(CheckAttachment("../../etc/passwd", jpeg, false).ok());
  CHECK_FALSE(IsAttachmentName(std::string(64, 'A') + ".jpg"));  // upper-case hex is not ours
  CHECK_FALSE(IsAttachmentName(std::string(64, 'a') + ".gif"));
  CHECK(AttachmentMime(jpeg_name) == "image/jpeg");
}

TEST_CASE("an image question holds a photo's name, and only a photo held here") {
  PhotoDevice d;
  std::string id = d.Patrol();
  std::string bogus = std::string(64, 'a') + ".jpg";
  Status s = d.store->Edit(id, {{"photo", "holiday.jpg"}}, std::nullopt);
  CHECK(s.message().find("is not a photo's name") != std::string::npos);
  s = d.store->Edit(id, {{"photo", bogus}}, std::nullopt);
  CHECK(s.message().find("not on this device") != std::string::npos);
  RecordState r;
  REQUIRE(d.store->Get(id, &r).ok());
  CHECK(r.fields.count("photo") == 0);  // nothing stored by the refusals
}

TEST_CASE("attaching seals the photo without its location, and it waits for its record") {
  PhotoDevice d;
  std::string id = d.Patrol();
  std::string name;
  REQUIRE(d.store->Attach(id, "photo", test::WithGps(test::TestJpeg()), &name).ok());
  RecordState r;
  REQUIRE(d.store->Get(id, &r).ok());
  CHECK(r.fields.at("photo").v == name);

  std::string back;
  REQUIRE(d.store->ReadAttachment(name, &back).ok());
  ImageInfo info;
  REQUIRE(InspectImage(back, &info).ok());
  CHECK_FALSE(info.has_location);
  AttachmentState state;
  REQUIRE(d.store->GetAttachmentState(name, &state).ok());
  CHECK(state == AttachmentState::kWaiting);

  // Not sent while its record's changes wait in the outbox; then it is.
  std::vector<AttachmentUpload> up;
  REQUIRE(d.store->AttachmentsToUpload(&up).ok());
  CHECK(up.empty());
  std::vector<OutboxEntry> outbox;
  REQUIRE(d.store->ReadOutbox(100, &outbox).ok());
  std::vector<std::int64_t> seqs;
  for (const auto& e : outbox) seqs.push_back(e.seq);
  REQUIRE(d.store->Acknowledge(seqs, {}).ok());
  REQUIRE(d.store->AttachmentsToUpload(&up).ok());
  REQUIRE(up.size() == 1);
  CHECK(up[0].name == name);
  CHECK(up[0].record_id == id);
  CHECK(up[0].field == "photo");
  REQUIRE(d.store->MarkAttachmentUploaded(name).ok());
  REQUIRE(d.store->GetAttachmentState(name, &state).ok());
  CHECK(state == AttachmentState::kUploaded);

  // The photo's bytes are nowhere in the file as they are: it is sealed.
  CHECK(d.store->ReadAttachment(std::string(64, 'b') + ".png", &back).IsNotFound());
}

TEST_CASE("a photo changed on the device is found out, and refusals store nothing") {
  PhotoDevice d;
  std::string id = d.Patrol();
  std::string name;
  Status s = d.store->Attach(id, "photo", "just some text", &name);
  CHECK(s.message().find("not a JPEG or PNG") != std::string::npos);
  s = d.store->Attach(id, "place", test::TestJpeg(), &name);
  CHECK(s.message().find("not a photo question") != std::string::npos);
  REQUIRE(d.store->Attach(id, "photo", test::TestJpeg(), &name).ok());

  {
    SqliteDb db;
    REQUIRE(db.Open(d.dir.path() + "/beatbook.db", /*create=*/false).ok());
    REQUIRE(db.Exec("UPDATE attachments SET content = substr(content, 1, 60) || "
                    "x'00' || substr(content, 62)")
                .ok());
  }
  std::string back;
  s = d.store->ReadAttachment(name, &back);
  CHECK(s.code() == Status::Code::kCorruption);
  CHECK(s.message().find("damaged") != std::string::npos);
}

TEST_CASE("photos nothing names any more are deleted: replaced, deleted, wiped") {
  PhotoDevice d;
  std::string id = d.Patrol();
  std::string first, second;
  REQUIRE(d.store->Attach(id, "photo", test::TestJpeg(), &first).ok());
  REQUIRE(d.store->Attach(id, "photo", test::TestPng(10, 10), &second).ok());
  std::int64_t removed = 0;
  REQUIRE(d.store->PruneAttachments(&removed).ok());
  CHECK(removed == 1);
  std::string back;
  CHECK(d.store->ReadAttachment(first, &back).IsNotFound());
  REQUIRE(d.store->ReadAttachment(second, &back).ok());

  // A draft's photo stays while the draft does.
  std::string draft_photo, draft_id;
  REQUIRE(d.store->AddAttachment("patrol", "photo", test::TestPng(12, 12, 7), &draft_photo).ok());
  REQUIRE(d.store->SaveDraft({"", "patrol", {{"photo", draft_photo}}, {}, 0}, &draft_id).ok());
  REQUIRE(d.store->PruneAttachments(&removed).ok());
  CHECK(removed == 0);
  REQUIRE(d.store->DeleteDraft(draft_id).ok());
  CHECK(d.store->ReadAttachment(draft_photo, &back).IsNotFound());

  REQUIRE(d.store->Delete(id).ok());
  CHECK(d.store->ReadAttachment(second, &back).IsNotFound());
}
