// The streaming push decoder (sync_server/api/push_decoder.h) against the tree path it stands in
// for: bodies as devices write them take the stream; every body, however broken, gets the same
// answer from both, refusals worded alike.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "support/record_states.h"
#include "support/schema_dir.h"
#include "support/seed.h"
#include "sync_server/api/push_decoder.h"

namespace beatbook::server {
namespace {

using nlohmann::json;

const FormSet& Forms() {
  static FormSet forms = [] {
    FormSet f;
    REQUIRE(FormSet::LoadDir(test::SchemaDir(), &f).ok());
    return f;
  }();
  return forms;
}

// A push body as field_client writes it: each change's stored text with its change_id spliced in.
std::string DeviceBody(const std::vector<RecordState>& changes) {
  std::string body = R"({"batch_id":"dev-a:1-)" + std::to_string(changes.size()) +
                     R"(","pending_after":3,"changes":[)";
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) body += ',';
    body += R"({"change_id":"c)" + std::to_string(i) + "\"," + changes[i].ToText(true).substr(1);
  }
  return body + "]}";
}

std::vector<RecordState> SampleChanges() {
  using test::Envelope;
  using test::NewRecord;
  std::vector<RecordState> out;
  out.push_back(NewRecord(Envelope("r1", "street_brief", "police", "amy", "dev-a"), 111,
                          "2023-06-01T21:00:00Z",
                          {{"place", "Jewry St \"north\"\n"}, {"attendees", 3}}));
  out.push_back(NewRecord(Envelope("r2", "outreach_contact", "street_pastors", "bo", "dev-a"), 112,
                          "2023-07-01T23:30:00Z",
                          {{"support_given", json::array({"welfare", "water"})},
                           {"notes", "caf\xc3\xa9 \xe2\x80\x94 ok"},
                           {"age_estimate", 41.5},
                           {"extra", {{"nested", {1, 2, {{"deep", nullptr}}}}}}}));
  RecordState edit = Envelope("r1", "street_brief", "police", "amy", "dev-a");
  edit.fields["attendees"] = Register{5, 113, "dev-a", 111};
  out.push_back(edit);
  RecordState deleted = Envelope("r3", "patrol", "police", "amy", "dev-a");
  deleted.deleted = Register{true, 114, "dev-a", 0};
  out.push_back(deleted);
  return out;
}

bool Same(const PushRequest& a, const PushRequest& b) {
  if (a.batch_id != b.batch_id || a.pending_after != b.pending_after ||
      a.changes.size() != b.changes.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    if (a.changes[i].change_id != b.changes[i].change_id ||
        a.changes[i].state.ToText(true) != b.changes[i].state.ToText(true)) {
      return false;
    }
  }
  return true;
}

// Both paths on `text`: returns whether the stream decoded it, after checking they agree.
bool CheckAgree(const std::string& text) {
  PushRequest streamed, tree, body;
  bool decoded = DecodePushStream(Forms(), text, &streamed) == StreamDecode::kDecoded;
  Status tree_status = DecodePushTree(Forms(), text, &tree);
  Status body_status = DecodePushBody(Forms(), text, &body);
  INFO("body: " << text.substr(0, 400));
  if (decoded) {
    CHECK(tree_status.ok());
    CHECK(Same(streamed, tree));
  }
  CHECK(body_status.ok() == tree_status.ok());
  CHECK(body_status.message() == tree_status.message());
  if (body_status.ok()) CHECK(Same(body, tree));
  return decoded;
}

TEST_CASE("a push body as a device writes it is read as a stream, as the tree path reads it") {
  std::string text = DeviceBody(SampleChanges());
  PushRequest streamed, tree;
  REQUIRE(DecodePushStream(Forms(), text, &streamed) == StreamDecode::kDecoded);
  REQUIRE(DecodePushTree(Forms(), text, &tree).ok());
  CHECK(Same(streamed, tree));
  CHECK(streamed.batch_id == "dev-a:1-4");
  CHECK(streamed.pending_after == 3);
  REQUIRE(streamed.changes.size() == 4);
  CHECK(streamed.changes[1].state.fields.at("support_given").v ==
        json::array({"welfare", "water"}));
  CHECK(streamed.changes[1].state.fields.at("extra").v["nested"][2]["deep"].is_null());
  CHECK(streamed.changes[2].state.fields.at("attendees").b == 111);
  CHECK(streamed.changes[3].state.IsDeleted());
}

TEST_CASE("members nobody reads are skipped, whatever they hold, without leaving the stream") {
  json body = json::parse(DeviceBody(SampleChanges()));
  body["client"] = {{"app", "beatbook"}, {"build", json::array({1, {{"x", "]}"}}})}};
  body["changes"][0]["note"] = json::array({json::object(), "{"});
  body["changes"][0]["fields"]["place"]["why"] = {{"a", {1, 2}}};
  body["pending_after"] = {{"not", "a number"}};  // read as 0, as the tree path reads it
  PushRequest streamed;
  REQUIRE(DecodePushStream(Forms(), body.dump(), &streamed) == StreamDecode::kDecoded);
  CHECK(streamed.pending_after == 0);
  CHECK(CheckAgree(body.dump()));
}

TEST_CASE("refusals are worded as the tree path words them, and name the change") {
  auto refusal = [](const std::string& text) {
    PushRequest out;
    Status s = DecodePushBody(Forms(), text, &out);
    CHECK_FALSE(s.ok());
    CheckAgree(text);
    return s.message();
  };
  std::string good = DeviceBody(SampleChanges());
  CHECK(refusal(good.substr(0, good.size() - 1)).find("not valid JSON") != std::string::npos);
  // A number too large for a double is refused as the JSON it is not, never a 500.
  CHECK(refusal(R"({"batch_id":"b","changes":[],"x":1e999})").find("not valid JSON") !=
        std::string::npos);
  json body = json::parse(good);
  body["changes"][1]["fields"]["notes"]["t"] = 1.5;
  CHECK(refusal(body.dump()) ==
        "change 2: record r2: field 'notes'.t must be a positive integer stamp");
  body = json::parse(good);
  body["changes"][0]["form_version"] = 99;
  CHECK(refusal(body.dump())
            .find("change 1 (record r1): form 'street_brief' version 99 is not known") == 0);
  body = json::parse(good);
  body["changes"][2]["id"] = "r 1";
  CHECK(refusal(body.dump()).find("change 3: record state: \"id\"") == 0);
  body = json::parse(good);
  body["changes"][3]["deleted"]["d"] = "";
  CHECK(refusal(body.dump()) == "change 4: record r3: deleted.d must be a device id");
  body = json::parse(good);
  body.erase("batch_id");
  CHECK(refusal(body.dump()).find("\"batch_id\"") != std::string::npos);
  // A member written twice: the tree keeps the last, so the stream leaves it to the tree.
  std::string twice = good;
  twice.replace(twice.find("{\"d\":\"dev-a\""), 1, "{\"t\":-4,");
  PushRequest out;
  CHECK(DecodePushStream(Forms(), twice, &out) == StreamDecode::kNeedsTree);
  CHECK(DecodePushBody(Forms(), twice, &out).ok());
  CheckAgree(twice);
}

// Random damage to device-written bodies: the stream must never accept what the tree refuses,
// nor read anything differently.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 11) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<std::int64_t>(rng() % 2000) - 1000;
    case 3:
      return std::numeric_limits<std::uint64_t>::max() - rng() % 3;
    case 4:
      return 2.5;
    case 5:
      return "";
    case 6:
      return "dev-a";
    case 7:
      return json::array({1, "x"});
    case 8:
      return json::object();
    case 9:
      return {{"v", 1}, {"t", 5}, {"d", "dev-a"}};
    default:
      return std::string(201, 'x');
  }
}

void Containers(json* node, std::vector<json*>* out) {
  if (!node->is_object() && !node->is_array()) return;
  out->push_back(node);
  for (auto& child : *node) Containers(&child, out);
}

// Changes, removes or adds one member of a random object (or element of an array) of `body`,
// with names that object may hold: a register's, a change's or the body's own.
void Damage(json* body, std::mt19937_64& rng) {
  std::vector<json*> nodes;
  Containers(body, &nodes);
  json* node = nodes[rng() % nodes.size()];
  if (node->is_array()) {
    if (!node->empty() && rng() % 2 == 0) {
      node->erase(node->begin() + static_cast<long>(rng() % node->size()));
    } else {
      node->push_back(RandomValue(rng));
    }
    return;
  }
  if (!node->empty() && rng() % 4 == 0) {
    auto it = node->begin();
    std::advance(it, static_cast<long>(rng() % node->size()));
    node->erase(it);
    return;
  }
  static const std::vector<std::string> kRegister = {"v", "t", "d", "b", "zz"};
  static const std::vector<std::string> kChange = {
      "change_id", "id",     "form",    "form_version", "org",    "author",
      "device",    "fields", "deleted", "occurred_at",  "purged", "zz"};
  static const std::vector<std::string> kTop = {"batch_id", "pending_after", "changes", "zz"};
  const auto& names = node->contains("t") || node->contains("v") ? kRegister
                      : node->contains("change_id")              ? kChange
                      : node->contains("batch_id")               ? kTop
                                                                 : kChange;
  (*node)[names[rng() % names.size()]] = RandomValue(rng);
}

TEST_CASE("damaged bodies get the same answer from the stream and the tree (seeded, 3,000)") {
  std::uint64_t seed = test::Seed();
  INFO("seed " << seed << " (replay with BEATBOOK_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  const std::string good = DeviceBody(SampleChanges());
  int streamed = 0, treed = 0;
  for (int i = 0; i < 3000; ++i) {
    INFO("case " << i);
    std::string text;
    if (i % 10 == 9) {  // damage to the text itself: a cut, or a byte changed
      text = good;
      std::size_t at = rng() % text.size();
      if (rng() % 2 == 0) {
        text.resize(at);
      } else {
        text[at] = "{}[],:\"x1\\ "[rng() % 12];
      }
    } else {
      json body = json::parse(good);
      for (std::uint64_t n = 1 + rng() % 3; n > 0; --n) Damage(&body, rng);
      text = body.dump();
    }
    (CheckAgree(text) ? streamed : treed)++;
  }
  // Both paths were taken, so the comparison compared something.
  CHECK(streamed > 100);
  CHECK(treed > 100);
}

}  // namespace
}  // namespace beatbook::server
