// Photos as a patrol officer and the coordinator handle them, with the real programs: attached
// from a file, uploaded by sync after the record, resumed after the sync was killed mid-photo,
// refused when changed on the tablet, and exported (audited) by the coordinator.
#include <filesystem>
#include <fstream>

#include "beatbook/crypto.h"
#include "beatbook/sqlite_db.h"
#include "fault_site.h"
#include "support/test_images.h"

using namespace beatbook;
using namespace beatbook::test;
using nlohmann::json;

namespace {

std::string SavePhotoFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

std::string LoadPhotoFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string PatrolToPhotograph(const std::string& device) {
  return Ok({"log", "--data", device, "patrol", "--set", "place=Jewry Street", "--set",
             "patrol_type=hotspot"});
}

}  // namespace

TEST_CASE("a photo killed mid-upload resumes at the next sync and reaches the coordinator") {
  Site site;
  TempDir files;
  std::string pat = site.Enrol("pat", "police");
  std::string id = PatrolToPhotograph(pat);
  const std::string photo = TestPng(600, 400, 9);  // three chunks of 256 KiB
  std::string name =
      Ok({"attach", "--data", pat, id, "photo", SavePhotoFile(files / "p.png", photo)});
  CHECK(name == Sha256Hex(photo) + ".png");
  json shown = OkJson({"show", "--data", pat, id, "--json"});
  CHECK(shown["photos"][name] == "waiting");
  CHECK(Ok({"show", "--data", pat, id}).find("(not uploaded yet)") != std::string::npos);

  // Killed, as a battery dying would, after the server took the first chunk.
  CommandResult killed = Run({FieldClientBin(), "sync", "--data", pat, "--json"}, "",
                             {{"BEATBOOK_FAULT", "sync.upload.after_chunk:1"}});
  CHECK(killed.exit_code == 128 + 9);
  CHECK(OkJson({"show", "--data", pat, id, "--json"})["photos"][name] == "waiting");
  // The server has the record and says its photo is not there yet.
  const std::string central = site.dir / "central";
  CommandResult exported = SyncServer({"export", "--data", central, "--form", "patrol", "--format",
                                       "json", "--attachments", files / "out1"});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.err.find("wrote 0 photos") != std::string::npos);
  CHECK(exported.err.find("1 not uploaded yet") != std::string::npos);

  json synced = OkJson({"sync", "--data", pat, "--json"});
  CHECK(synced["photos"]["uploaded"] == 1);
  CHECK(synced["photos"]["resumed"] == 1);
  CHECK(synced["photos"]["bytes_sent"] == photo.size() - 256 * 1024);
  CHECK(synced["photos"]["waiting"] == 0);
  CHECK(OkJson({"show", "--data", pat, id, "--json"})["photos"][name] == "uploaded");

  exported = SyncServer(
      {"export", "--data", central, "--form", "patrol", "--attachments", files / "out2"});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.find(name) != std::string::npos);  // the record's column names it
  CHECK(LoadPhotoFile(files / ("out2/" + name)) == photo);
  CommandResult audit = SyncServer({"audit", "--data", central, "--action", "export_attachments"});
  CHECK(audit.out.find("export_attachments") != std::string::npos);

  // A coordinator's tablet pulls the record, but not the photo: it says where it is.
  std::string cleo = site.Enrol("cleo", "csp", "", "coordinator");
  Ok({"sync", "--data", cleo});
  CHECK(Ok({"show", "--data", cleo, id}).find("(taken on another device)") != std::string::npos);
}

TEST_CASE("a photo changed on the tablet is not sent, and sync says so") {
  Site site;
  TempDir files;
  std::string pat = site.Enrol("pat", "police");
  std::string id = PatrolToPhotograph(pat);
  std::string name =
      Ok({"attach", "--data", pat, id, "photo", SavePhotoFile(files / "p.jpg", TestJpeg())});
  {
    SqliteDb db;
    REQUIRE(db.Open(pat + "/beatbook.db", /*create=*/false).ok());
    REQUIRE(db.Exec("UPDATE attachments SET content = substr(content, 1, 50) || x'ff' || "
                    "substr(content, 52)")
                .ok());
  }
  CommandResult r = FieldClient({"sync", "--data", pat});
  REQUIRE(r.exit_code == 0);  // the record itself went up
  CHECK(r.out.find("0 uploaded, 1 not uploaded yet") != std::string::npos);
  CHECK(r.out.find("is damaged on this device") != std::string::npos);
  CommandResult exported = SyncServer({"export", "--data", site.dir / "central", "--form", "patrol",
                                       "--attachments", files / "out"});
  CHECK(exported.err.find("1 not uploaded yet") != std::string::npos);

  // Bad files are refused by name and type, and nothing is attached.
  r = FieldClient({"attach", "--data", pat, id, "photo", SavePhotoFile(files / "x.jpg", "GIF89a")});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("x.jpg") != std::string::npos);
  CHECK(r.err.find("not a JPEG or PNG") != std::string::npos);
  r = FieldClient({"attach", "--data", pat, id, "photo", files / "missing.jpg"});
  CHECK(r.err.find("cannot read") != std::string::npos);
  CHECK(OkJson({"show", "--data", pat, id, "--json"})["fields"]["photo"] == name);
}
