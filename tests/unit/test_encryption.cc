// Encryption at rest: sealing, PIN-wrapped keys, the device store's files, and shared tablets.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "beatbook/data_key.h"
#include "beatbook/key_files.h"
#include "beatbook/local_store.h"
#include "beatbook/shared_tablet.h"
#include "beatbook/sqlite_db.h"
#include "beatbook/tunables.h"
#include "support/schema_dir.h"
#include "support/temp_dir.h"

using namespace beatbook;
namespace fs = std::filesystem;

namespace {

// Every byte of every file under `dir`: what someone who copied the directory holds.
std::string FilesUnder(const std::string& dir) {
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

Identity TabletWorker(const std::string& user) {
  Identity id;
  id.user = user;
  id.org = "police";
  id.role = Role::kFieldWorker;
  id.device_id = "dev-" + user;
  id.secret = "credential-of-" + user;
  id.subject_secret = "partnership-person-key-secret";
  return id;
}

RecordInput SealedBrief(const std::string& place) {
  return {"street_brief", {{"place", place}, {"attendees", 7}},
          std::nullopt,   std::nullopt,
          std::nullopt,   std::nullopt,
          std::nullopt};
}

// Key files of devices without PINs go to a directory of the test's own.
struct KeyDir {
  KeyDir() {
    const char* old = std::getenv("BEATBOOK_KEY_DIR");
    saved = old ? old : "";
    setenv("BEATBOOK_KEY_DIR", (dir / "keys").c_str(), 1);
  }
  ~KeyDir() {
    if (saved.empty()) {
      unsetenv("BEATBOOK_KEY_DIR");
    } else {
      setenv("BEATBOOK_KEY_DIR", saved.c_str(), 1);
    }
  }
  std::string path() const { return dir / "keys"; }
  test::TempDir dir;
  std::string saved;
};

FormSet TabletForms() {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  return forms;
}

}  // namespace

TEST_CASE("a sealed text opens only with its key, under its context, unaltered") {
  DataKey key = DataKey::Generate(), other = DataKey::Generate();
  std::string sealed = key.Seal("Kingsgate Arch 4, 12 attendees", "record:r1");
  CHECK(sealed.find("Jewry") == std::string::npos);
  CHECK(sealed != key.Seal("Kingsgate Arch 4, 12 attendees", "record:r1"));  // fresh nonce each time

  std::string plain;
  REQUIRE(key.Open(sealed, "record:r1", &plain).ok());
  CHECK(plain == "Kingsgate Arch 4, 12 attendees");

  Status moved = key.Open(sealed, "record:r2", &plain);
  CHECK(moved.code() == Status::Code::kCorruption);
  CHECK(moved.message().find("record") != std::string::npos);
  CHECK(other.Open(sealed, "record:r1", &plain).code() == Status::Code::kCorruption);
  std::string altered = sealed;
  altered[altered.size() / 2] ^= 1;
  CHECK(key.Open(altered, "record:r1", &plain).code() == Status::Code::kCorruption);
  CHECK(key.Open("{\"plain\": true}", "record:r1", &plain).code() == Status::Code::kCorruption);
  CHECK(key.Open("", "record:r1", &plain).code() == Status::Code::kCorruption);
}

TEST_CASE("a PIN-wrapped key opens with that PIN only, and a tampered cost is refused") {
  DataKey key = DataKey::Generate();
  nlohmann::json file;
  REQUIRE(WrapKeyWithPin(key, "4821", &file).ok());
  CHECK(file.dump().find("4821") == std::string::npos);
  CHECK(file["memlimit"] == tunables::kPinKdfMemLimitBytes);

  DataKey back;
  REQUIRE(UnwrapKeyWithPin(file, "4821", &back).ok());
  std::string plain;
  CHECK(back.Open(key.Seal("x", "c"), "c", &plain).ok());
  CHECK(UnwrapKeyWithPin(file, "4822", &back).code() == Status::Code::kPermissionDenied);

  CHECK(WrapKeyWithPin(key, "123", &file).code() == Status::Code::kInvalidArgument);
  CHECK(CheckPin(std::string(tunables::kMaxPinLength + 1, '1')).code() ==
        Status::Code::kInvalidArgument);

  nlohmann::json greedy = file;
  REQUIRE(WrapKeyWithPin(key, "4821", &greedy).ok());
  greedy["memlimit"] = std::size_t{1} << 40;  // would make every sign-in allocate 1 TiB
  CHECK(UnwrapKeyWithPin(greedy, "4821", &back).code() == Status::Code::kCorruption);
  nlohmann::json broken = greedy;
  broken.erase("salt");
  CHECK(UnwrapKeyWithPin(broken, "4821", &back).code() == Status::Code::kCorruption);
}

// The marker is a place no schema file names: the named places (schema/places.json) travel with
// the forms in plain text, as public as the forms themselves.
TEST_CASE("a device without PINs keeps no record content or credential readable in its files") {
  KeyDir keys;
  test::TempDir data;
  std::unique_ptr<LocalStore> store;
  REQUIRE(LocalStore::Create(data.path(), TabletWorker("amy"), TabletForms(), {}, &store).ok());
  std::string id;
  REQUIRE(store->Log(SealedBrief("Kingsgate Arch 4"), &id).ok());
  REQUIRE(
      store->Acknowledge({}, {{"change-1", id, "field 'place': Kingsgate Arch 4 is wrong", 1}}).ok());
  store.reset();

  std::string files = FilesUnder(data.path());
  CHECK(files.find("Kingsgate Arch 4") == std::string::npos);
  CHECK(files.find("credential-of-amy") == std::string::npos);
  CHECK(files.find("partnership-person-key-secret") == std::string::npos);
  // The key is not beside the data: one key file, in the key directory.
  CHECK(std::distance(fs::directory_iterator(keys.path()), fs::directory_iterator()) == 1);

  REQUIRE(LocalStore::Open(data.path(), {}, &store).ok());
  RecordState state;
  REQUIRE(store->Get(id, &state).ok());
  CHECK(state.FieldValues()["place"] == "Kingsgate Arch 4");
  CHECK(store->identity().secret == "credential-of-amy");
  std::vector<Rejection> rejections;
  REQUIRE(store->Rejections(&rejections).ok());
  REQUIRE(rejections.size() == 1);
  CHECK(rejections[0].reason.find("Kingsgate Arch 4") != std::string::npos);
  std::vector<OutboxEntry> outbox;
  REQUIRE(store->ReadOutbox(10, &outbox).ok());
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].change_json.find("Kingsgate Arch 4") != std::string::npos);
  store.reset();

  SUBCASE("without its key file the store does not open, and says where it looked") {
    fs::remove_all(keys.path());
    Status s = LocalStore::Open(data.path(), {}, &store);
    CHECK(s.code() == Status::Code::kNotFound);
    CHECK(s.message().find(keys.path()) != std::string::npos);
  }
  SUBCASE("another key is refused") {
    LocalStoreOptions wrong;
    wrong.key = std::make_shared<DataKey>(DataKey::Generate());
    CHECK(LocalStore::Open(data.path(), wrong, &store).code() == Status::Code::kPermissionDenied);
  }
  SUBCASE("a record's sealed state copied onto another record does not open") {
    std::string second;
    {
      REQUIRE(LocalStore::Open(data.path(), {}, &store).ok());
      REQUIRE(store->Log(SealedBrief("Wolvesey Passage 9"), &second).ok());
      store.reset();
      SqliteDb db;
      REQUIRE(db.Open(data / "beatbook.db", false).ok());
      SqliteStmt st;
      REQUIRE(db.Prepare("UPDATE records SET state = (SELECT state FROM records WHERE id = ?1) "
                         "WHERE id = ?2",
                         &st)
                  .ok());
      st.Bind(1, id);
      st.Bind(2, second);
      REQUIRE(st.Run().ok());
    }
    REQUIRE(LocalStore::Open(data.path(), {}, &store).ok());
    RecordState moved;
    CHECK(store->Get(second, &moved).code() == Status::Code::kCorruption);
    CHECK(store->Get(id, &moved).ok());
  }
  SUBCASE("a remote wipe removes the key file too") {
    REQUIRE(LocalStore::Open(data.path(), {}, &store).ok());
    REQUIRE(store->Wipe().ok());
    CHECK(fs::is_empty(keys.path()));
  }
}

TEST_CASE("a store made before encryption is encrypted in place when opened") {
  KeyDir keys;
  test::TempDir data;
  std::unique_ptr<LocalStore> store;
  LocalStoreOptions old_program;
  old_program.max_schema_version = 2;
  REQUIRE(LocalStore::Create(data.path(), TabletWorker("amy"), TabletForms(), old_program, &store)
              .ok());
  std::string synced, pending;
  REQUIRE(store->Log(SealedBrief("Kingsgate Arch 4"), &synced).ok());
  std::vector<OutboxEntry> outbox;
  REQUIRE(store->ReadOutbox(10, &outbox).ok());
  REQUIRE(store->Acknowledge({outbox[0].seq}, {}).ok());
  REQUIRE(store->Log(SealedBrief("Wolvesey Passage 9"), &pending).ok());
  store.reset();
  REQUIRE(FilesUnder(data.path()).find("Kingsgate Arch 4") != std::string::npos);  // as it was
  REQUIRE(FilesUnder(data.path()).find("credential-of-amy") != std::string::npos);

  REQUIRE(LocalStore::Open(data.path(), {}, &store).ok());
  RecordState state;
  REQUIRE(store->Get(synced, &state).ok());
  CHECK(state.FieldValues()["place"] == "Kingsgate Arch 4");
  outbox.clear();
  REQUIRE(store->ReadOutbox(10, &outbox).ok());
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].record_id == pending);
  CHECK(store->identity().secret == "credential-of-amy");
  store.reset();

  std::string files = FilesUnder(data.path());
  CHECK(files.find("Kingsgate Arch 4") == std::string::npos);
  CHECK(files.find("Wolvesey Passage 9") == std::string::npos);
  CHECK(files.find("credential-of-amy") == std::string::npos);
}

TEST_CASE("a shared tablet: each worker's PIN opens their own store, and wrong PINs slow down") {
  test::TempDir tablet;
  ManualClock clock(1'700'000'000'000);
  LocalStoreOptions options;
  options.clock = &clock;
  FormSet forms = TabletForms();
  std::unique_ptr<LocalStore> store;
  REQUIRE(AddWorker(tablet.path(), "2468", TabletWorker("bob"), forms, options, &store).ok());
  std::string bobs;
  REQUIRE(store->Log(SealedBrief("Bob's beat"), &bobs).ok());
  REQUIRE(AddWorker(tablet.path(), "1357", TabletWorker("cat"), forms, options, &store).ok());
  std::string cats;
  REQUIRE(store->Log(SealedBrief("Cat's beat"), &cats).ok());
  store.reset();
  CHECK(UsesPins(tablet.path()));

  SUBCASE("a PIN signs in its worker only; records are theirs") {
    REQUIRE(SignInWorker(tablet.path(), "2468", options, &store).ok());
    CHECK(store->identity().user == "bob");
    RecordState state;
    REQUIRE(store->Get(bobs, &state).ok());
    CHECK(state.author == "bob");
    CHECK(store->Get(cats, &state).code() == Status::Code::kNotFound);
    REQUIRE(SignInWorker(tablet.path(), "1357", options, &store).ok());
    CHECK(store->identity().user == "cat");
    std::string files = FilesUnder(tablet.path());
    CHECK(files.find("Bob's beat") == std::string::npos);
    CHECK(files.find("credential-of-cat") == std::string::npos);
  }
  SUBCASE("a new worker cannot take a PIN in use, nor a short one") {
    CHECK(AddWorker(tablet.path(), "2468", TabletWorker("dan"), forms, options, &store).code() ==
          Status::Code::kAlreadyExists);
    CHECK(CheckNewWorker(tablet.path(), "12", options).code() == Status::Code::kInvalidArgument);
    CHECK(CheckNewWorker(tablet.path(), "9999", options).ok());
  }
  SUBCASE("a device without PINs does not take workers") {
    KeyDir keys;
    test::TempDir single;
    REQUIRE(LocalStore::Create(single.path(), TabletWorker("eve"), forms, options, &store).ok());
    CHECK(CheckNewWorker(single.path(), "2468", options).code() == Status::Code::kAlreadyExists);
    CHECK_FALSE(UsesPins(single.path()));
  }
  SUBCASE("after the free wrong PINs, attempts wait, doubling; a right PIN clears the count") {
    for (int i = 0; i < tunables::kPinFreeAttempts; ++i) {
      Status s = SignInWorker(tablet.path(), "0000", options, &store);
      CHECK(s.code() == Status::Code::kPermissionDenied);
      CHECK(s.message().find("wrong PIN") != std::string::npos);
    }
    Status waiting = SignInWorker(tablet.path(), "2468", options, &store);  // even the right one
    CHECK(waiting.code() == Status::Code::kPermissionDenied);
    CHECK(waiting.message().find("try again in 30 s") != std::string::npos);

    clock.Advance(tunables::kPinBackoffBaseMs);
    CHECK(SignInWorker(tablet.path(), "0000", options, &store).code() ==
          Status::Code::kPermissionDenied);
    clock.Advance(tunables::kPinBackoffBaseMs);  // the wait has doubled
    CHECK(SignInWorker(tablet.path(), "2468", options, &store).message().find("try again in 30") !=
          std::string::npos);
    clock.Advance(tunables::kPinBackoffBaseMs);
    REQUIRE(SignInWorker(tablet.path(), "2468", options, &store).ok());
    // Bob's own count is cleared; the count against Cat is not: the next wrong PIN makes the
    // tablet wait at once, doubled again, even for Cat's right PIN.
    CHECK(SignInWorker(tablet.path(), "0000", options, &store).message().find("makes you wait") !=
          std::string::npos);
    Status still = SignInWorker(tablet.path(), "1357", options, &store);
    CHECK(still.code() == Status::Code::kPermissionDenied);
    CHECK(still.message().find("try again in 120 s") != std::string::npos);
  }
  SUBCASE("right PINs count against nobody: a busy shift never locks a colleague out") {
    for (int i = 0; i < 4 * tunables::kPinFreeAttempts; ++i) {
      REQUIRE(SignInWorker(tablet.path(), i % 3 ? "2468" : "1357", options, &store).ok());
    }
    CHECK(SignInWorker(tablet.path(), "0000", options, &store).message().find("4 more tries") !=
          std::string::npos);
  }
  SUBCASE(
      "a worker guessing a colleague's PIN cannot reset the count by signing in, or by "
      "deleting files") {
    for (int i = 0; i < tunables::kPinFreeAttempts; ++i) {
      CHECK(SignInWorker(tablet.path(), "000" + std::to_string(i), options, &store).code() ==
            Status::Code::kPermissionDenied);
    }
    // Bob waits out the first pause and signs in as himself...
    clock.Advance(tunables::kPinBackoffBaseMs);
    REQUIRE(SignInWorker(tablet.path(), "2468", options, &store).ok());
    store.reset();
    // ...and removes every file of the tablet but the workers' stores and key files.
    for (const auto& e : std::filesystem::directory_iterator(tablet.path())) {
      if (e.path().filename() != "workers") std::filesystem::remove_all(e.path());
    }
    // The count against Cat survives both, and the wait keeps growing: 60 s, then 120 s.
    CHECK(SignInWorker(tablet.path(), "0009", options, &store).message().find("makes you wait") !=
          std::string::npos);
    CHECK(
        SignInWorker(tablet.path(), "0010", options, &store).message().find("try again in 60 s") !=
        std::string::npos);
    clock.Advance(2 * tunables::kPinBackoffBaseMs);
    CHECK(SignInWorker(tablet.path(), "0011", options, &store).message().find("wrong PIN") !=
          std::string::npos);
    CHECK(
        SignInWorker(tablet.path(), "0012", options, &store).message().find("try again in 120 s") !=
        std::string::npos);
    // Cat's right PIN, once the wait is over, clears her count: the tablet is free again.
    clock.Advance(4 * tunables::kPinBackoffBaseMs);
    REQUIRE(SignInWorker(tablet.path(), "1357", options, &store).ok());
    REQUIRE(SignInWorker(tablet.path(), "2468", options, &store).ok());
  }
}
