// The worker's app's local API (docs/app-api.md), in process over a real device store: who may
// call it, records and their states, drafts that finish exactly once, validation messages per
// field, a shared tablet's PIN and idle sign-out, and a partner lead's returns grid. The page
// itself, the real process and sync are tested in headless Chromium (tests/browser/app.test.mjs).
#include <filesystem>
#include <fstream>

#include "beatbook/shared_tablet.h"
#include "field_client/app_server/app_api.h"
#include "support/pseudo_language.h"
#include "sync_fixture.h"

using namespace beatbook;
using namespace beatbook::test;
using field_client::AppApi;
using field_client::AppOptions;
using nlohmann::json;

namespace {

const char kOrigin[] = "127.0.0.1:40123";
const char kKey[] = "launch-key-for-tests-0123456789abcdef";

// A request as the page would send it, with the launch key as its credential.
http::Request Call(const std::string& method, const std::string& target, const json& body = {}) {
  http::Request r{method, target, body.is_null() ? "" : body.dump(), ""};
  r.headers["host"] = kOrigin;
  r.headers["x-beatbook-key"] = kKey;
  return r;
}

struct App {
  explicit App(const std::string& dir, const Clock* clock = nullptr)
      : api([&] {
          AppOptions o;
          o.data = dir;
          o.launch_key = kKey;
          o.clock = clock;
          return o;
        }()) {
    REQUIRE(api.Start().ok());
    api.SetOrigin(kOrigin);
  }
  http::Response operator()(const std::string& method, const std::string& target,
                            const json& body = {}) {
    return api.Handle(Call(method, target, body));
  }
  AppApi api;
};

// A device enrolled for `user`, its store closed again: the directory an app serves.
std::string EnrolledDir(SyncFixture& f, const std::string& user, const std::string& org,
                        const std::string& role) {
  Device d = f.Enrol(user, org, role);
  return d.store->dir();  // the store closes with `d`
}

}  // namespace

TEST_CASE("the app's API answers only its own page, on this machine's own name") {
  SyncFixture f;
  App app(EnrolledDir(f, "amy", "csp", "field_worker"));
  CHECK(app("GET", "/app/api/state").status == 200);

  http::Request no_key = Call("GET", "/app/api/state");
  no_key.headers.erase("x-beatbook-key");
  CHECK(app.api.Handle(no_key).status == 401);
  http::Request wrong_key = Call("GET", "/app/api/records");
  wrong_key.headers["x-beatbook-key"] = "guess";
  CHECK(app.api.Handle(wrong_key).status == 401);
  http::Request rebinding = Call("GET", "/app/api/state");
  rebinding.headers["host"] = "evil.example:40123";
  http::Response foreign = app.api.Handle(rebinding);
  CHECK(foreign.status == 403);
  CHECK(foreign.body["error"]["code"] == "foreign_host");
  http::Request other_page = Call("POST", "/app/api/records", json::object());
  other_page.headers["origin"] = "http://evil.example";
  CHECK(app.api.Handle(other_page).body["error"]["code"] == "foreign_origin");
  // No CORS, ever; API replies are not cached.
  http::Response ok = app("GET", "/app/api/state");
  for (const auto& [name, value] : ok.headers) CHECK(name.rfind("Access-Control", 0) != 0);

  // The page trades the launch key for an HttpOnly cookie, which then stands for the key.
  http::Request session = Call("POST", "/app/session", {{"key", kKey}});
  session.headers.erase("x-beatbook-key");
  http::Response started = app.api.Handle(session);
  REQUIRE(started.status == 200);
  std::string cookie;
  for (const auto& [name, value] : started.headers) {
    if (name == "Set-Cookie") cookie = value;
  }
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  http::Request with_cookie = Call("GET", "/app/api/state");
  with_cookie.headers.erase("x-beatbook-key");
  with_cookie.headers["cookie"] = "theme=dark; " + cookie.substr(0, cookie.find(';'));
  CHECK(app.api.Handle(with_cookie).status == 200);
  // Static files need no key, and carry the strict policy.
  http::Request page = Call("GET", "/");
  page.headers.erase("x-beatbook-key");
  http::Response index = app.api.Handle(page);
  CHECK(index.status == 200);
  bool csp = false;
  for (const auto& [name, value] : index.headers) {
    csp = csp || (name == "Content-Security-Policy" &&
                  value.find("script-src 'self'") != std::string::npos);
  }
  CHECK(csp);
}

TEST_CASE("records from the app: errors per field and nothing stored, then states in plain words") {
  SyncFixture f;
  std::string dir = EnrolledDir(f, "amy", "csp", "field_worker");
  App app(dir);
  json forms = app("GET", "/app/api/forms").body["forms"];
  std::set<std::string> names;
  for (const auto& form : forms) names.insert(form["form"].get<std::string>());
  CHECK(names.count("street_brief") == 1);
  CHECK(names.count("indicator_return") == 0);  // partner returns are for leads

  json bad = {{"form", "street_brief"},
              {"occurred_at", "2023-06-01T22:00:00Z"},
              {"fields", {{"place", "Jewry Street"}, {"attendees", -3}}}};
  http::Response refused = app("POST", "/app/api/records", bad);
  CHECK(refused.status == 400);
  REQUIRE(refused.body["errors"].size() == 1);
  CHECK(refused.body["errors"][0]["field"] == "attendees");
  CHECK(refused.body["errors"][0]["message"].get<std::string>().find("below the minimum 0") !=
        std::string::npos);
  CHECK(app("GET", "/app/api/records").body["records"].empty());
  json check = app("POST", "/app/api/check", bad).body;
  CHECK(check["errors"].size() == 1);
  bad["occurred_at"] = "2099-01-01T00:00:00Z";
  bad["fields"]["attendees"] = 4;
  CHECK(app("POST", "/app/api/records", bad).body["errors"][0]["field"] == "occurred_at");

  bad["occurred_at"] = "2023-06-01T22:00:00Z";
  http::Response stored = app("POST", "/app/api/records", bad);
  REQUIRE(stored.status == 201);
  std::string id = stored.body["id"];
  json records = app("GET", "/app/api/records").body["records"];
  REQUIRE(records.size() == 1);
  CHECK(records[0]["state"] == "not_sent");
  CHECK(records[0]["mine"] == true);
  CHECK(app("GET", "/app/api/state").body["pending"] == 1);
  json changed = records[0]["fields"];
  changed["attendees"] = 6;
  CHECK(app("PUT", "/app/api/records/" + id, {{"fields", changed}}).status == 200);
  CHECK(app("GET", "/app/api/state").body["pending"] == 1);  // records, not changes
  // A person's details become the person key, and are not kept.
  json contact = {
      {"form", "outreach_contact"},
      {"occurred_at", "2023-06-01T23:00:00Z"},
      {"fields",
       {{"place", "High Street"}, {"age_band", "18_24"}, {"safeguarding_concern", false}}},
      {"subject", {{"name", "Jane Doe"}, {"dob", "1990-02-03"}}}};
  http::Response person = app("POST", "/app/api/records", contact);
  REQUIRE(person.status == 201);
  json shown = app("GET", "/app/api/records/" + person.body["id"].get<std::string>()).body;
  CHECK(shown["fields"]["subject_key"].get<std::string>().size() == 64);
  CHECK(shown.dump().find("Jane") == std::string::npos);
  contact["subject"]["dob"] = "yesterday";
  CHECK(app("POST", "/app/api/records", contact).body["errors"][0]["field"] == "subject");

  // Edited with its errors per field; deleted for good.
  json answers = app("GET", "/app/api/records/" + id).body["fields"];
  answers["attendees"] = "many";
  CHECK(app("PUT", "/app/api/records/" + id, {{"fields", answers}}).status == 400);
  answers["attendees"] = 5;
  answers["topics"] = {"asb"};
  CHECK(app("PUT", "/app/api/records/" + id, {{"fields", answers}}).status == 200);
  CHECK(app("GET", "/app/api/records/" + id).body["fields"]["attendees"] == 5);
  answers.erase("topics");  // left out: cleared
  CHECK(app("PUT", "/app/api/records/" + id, {{"fields", answers}}).status == 200);
  CHECK(app("GET", "/app/api/records/" + id).body["fields"].count("topics") == 0);
  CHECK(app("DELETE", "/app/api/records/" + id).status == 200);
  CHECK(app("GET", "/app/api/records/" + id).status == 404);
}

TEST_CASE("forms in the worker's language: chosen once, remembered, and records keep codes") {
  SyncFixture f;
  // The server's forms carry a test language (patrol is left in English): enrolment hands them
  // to the device with their translations.
  TempDir schema;
  WritePseudoSchema(schema / "schema", {"patrol"});
  REQUIRE(FormSet::LoadDir(schema / "schema", &f.forms).ok());
  std::string dir = EnrolledDir(f, "sam", "street_pastors", "field_worker");
  auto form_named = [](const json& forms, const std::string& name) {
    for (const auto& form : forms) {
      if (form["form"] == name) return form;
    }
    FAIL("no form " << name);
    return json();
  };
  auto field_named = [](const json& form, const std::string& name) {
    for (const auto& field : form["fields"]) {
      if (field["name"] == name) return field;
    }
    FAIL("no field " << name);
    return json();
  };
  {
    App app(dir);
    CHECK(app("GET", "/app/api/state").body["worker"]["language"] == "en");
    json contact = form_named(app("GET", "/app/api/forms").body["forms"], "outreach_contact");
    CHECK(contact["language"] == "en");
    CHECK(contact["label"] == "Outreach contact");
    json expected = json::array(
        {{{"code", "en"}, {"name", "English"}}, {{"code", "en-XA"}, {"name", "Pseudo (test)"}}});
    CHECK(contact["languages"] == expected);
    CHECK(field_named(contact, "safeguarding_concern")["yes_label"] == "Yes");

    // A language no form is in is refused, and changes nothing.
    http::Response refused = app("PUT", "/app/api/language", {{"language", "cy"}});
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "bad_language");
    CHECK(refused.body["error"]["message"].get<std::string>().find("'cy'") != std::string::npos);
    CHECK(app("PUT", "/app/api/language", {{"language", 7}}).status == 400);
    CHECK(app("GET", "/app/api/state").body["worker"]["language"] == "en");

    http::Response chosen = app("PUT", "/app/api/language", {{"language", "en-XA"}});
    REQUIRE(chosen.status == 200);
    CHECK(chosen.body["worker"]["language"] == "en-XA");
  }
  // Remembered by the worker's store: a new app process shows the forms in it.
  App app(dir);
  json forms = app("GET", "/app/api/forms").body["forms"];
  json contact = form_named(forms, "outreach_contact");
  CHECK(contact["language"] == "en-XA");
  CHECK(contact["label"] == Pseudo("Outreach contact"));
  CHECK(contact["help"] == Pseudo(f.forms.Latest("outreach_contact")->help));
  json age = field_named(contact, "age_band");
  CHECK(age["label"] == Pseudo("Age band"));
  CHECK(age["choices"][0] == json({{"code", "under_18"}, {"label", Pseudo("Under 18")}}));
  // The place question offers the partnership's named places.
  json place = field_named(contact, "place");
  REQUIRE(place["places"].is_array());
  CHECK(place["places"].size() == f.forms.places().places().size());
  CHECK(place["places"][1] == json({{"code", "high_street"}, {"label", "High Street"}}));
  CHECK(!field_named(contact, "notes").contains("places"));
  json concern = field_named(contact, "safeguarding_concern");
  CHECK(concern["yes_label"] == Pseudo("Yes"));
  CHECK(concern["no_label"] == Pseudo("No"));
  // A form not written in the language is shown in English, and says so.
  json patrol = form_named(forms, "patrol");
  CHECK(patrol["language"] == "en");
  CHECK(patrol["label"] == "Patrol or operation");
  CHECK(patrol["languages"].size() == 1);

  // What is saved is codes: the same record whatever language it was entered in.
  json answers = {{"form", "outreach_contact"},
                  {"occurred_at", "2023-06-01T23:00:00Z"},
                  {"fields",
                   {{"place", "Jewry Street"},
                    {"age_band", "18_24"},
                    {"issues", {"begging"}},
                    {"safeguarding_concern", true}}}};
  http::Response stored = app("POST", "/app/api/records", answers);
  REQUIRE(stored.status == 201);
  json record = app("GET", "/app/api/records/" + stored.body["id"].get<std::string>()).body;
  CHECK(record["fields"] == answers["fields"]);
  CHECK(record["form_label"] == Pseudo("Outreach contact"));
  // A refusal names the question by its field; the page shows it by its label in the language.
  answers["fields"]["age_band"] = "over_100";
  http::Response refused = app("POST", "/app/api/records", answers);
  REQUIRE(refused.status == 400);
  CHECK(refused.body["errors"][0]["field"] == "age_band");
  REQUIRE(app("POST", "/app/api/drafts", {{"form", "outreach_contact"}}).status == 201);
  CHECK(app("GET", "/app/api/drafts").body["drafts"][0]["form_label"] ==
        Pseudo("Outreach contact"));
}

TEST_CASE("drafts are kept sealed on the device and finish exactly once") {
  SyncFixture f;
  std::string dir = EnrolledDir(f, "amy", "csp", "field_worker");
  std::string draft_id;
  {
    App app(dir);
    http::Response saved = app("POST", "/app/api/drafts",
                               {{"form", "street_brief"},
                                {"fields", {{"place", "Half-typed Lane"}}},
                                {"subject", {{"name", "Never Kept"}, {"dob", "1990-01-01"}}}});
    REQUIRE(saved.status == 201);
    draft_id = saved.body["id"];
    CHECK(app("PUT", "/app/api/drafts/" + draft_id,
              {{"form", "street_brief"},
               {"fields", {{"place", "Half-typed Lane"}, {"attendees", 2}}}})
              .status == 200);
  }
  // The app stopped (or was killed): the draft is in the store, sealed, without the name.
  std::string files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    files.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  CHECK(files.find("Half-typed Lane") == std::string::npos);
  App app(dir);
  json drafts = app("GET", "/app/api/drafts").body["drafts"];
  REQUIRE(drafts.size() == 1);
  CHECK(drafts[0]["fields"]["attendees"] == 2);
  CHECK(drafts.dump().find("Never Kept") == std::string::npos);
  CHECK(app("GET", "/app/api/state").body["drafts"] == 1);
  CHECK(app("GET", "/app/api/records").body["records"].empty());  // never counted
  CHECK(app("GET", "/app/api/state").body["pending"] == 0);       // never sent

  json finish = {{"form", "street_brief"},
                 {"occurred_at", "2023-06-01T22:00:00Z"},
                 {"fields", drafts[0]["fields"]},
                 {"draft_id", draft_id}};
  REQUIRE(app("POST", "/app/api/records", finish).status == 201);
  CHECK(app("GET", "/app/api/drafts").body["drafts"].empty());
  // Sent again (a double tap, a retry): the draft is gone, so it is not stored twice.
  CHECK(app("POST", "/app/api/records", finish).status == 404);
  CHECK(app("GET", "/app/api/records").body["records"].size() == 1);
  CHECK(app("DELETE", "/app/api/drafts/" + draft_id).status == 404);
}

TEST_CASE("a shared tablet: PIN sign-in, wrong PINs refused, signed out when idle") {
  SyncFixture f;
  test::TempDir tablet;
  for (auto [user, pin] :
       std::vector<std::pair<std::string, std::string>>{{"pat", "2468"}, {"quinn", "1357"}}) {
    Device d = f.Enrol(user, "csp", "field_worker");
    std::unique_ptr<LocalStore> added;
    REQUIRE(AddWorker(tablet.path(), pin, d.store->identity(), d.store->forms(), {}, &added).ok());
  }
  ManualClock clock(SystemClock::Default()->NowMs());
  App app(tablet.path(), &clock);
  json state = app("GET", "/app/api/state").body;
  CHECK(state["locked"] == true);
  CHECK(state["shared"] == true);
  CHECK(app("GET", "/app/api/records").status == 401);
  http::Response wrong = app("POST", "/app/api/signin", {{"pin", "0000"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body["error"]["message"].get<std::string>().find("Wrong PIN") != std::string::npos);
  http::Response quinn = app("POST", "/app/api/signin", {{"pin", "1357"}});
  REQUIRE(quinn.status == 200);
  CHECK(quinn.body["worker"]["user"] == "quinn");
  CHECK(app("GET", "/app/api/records").status == 200);
  clock.Advance(tunables::kAppIdleTimeoutMs + 1000);
  CHECK(app("GET", "/app/api/records").status == 401);  // signed out by itself
  CHECK(app("GET", "/app/api/state").body["locked"] == true);
}

TEST_CASE("a partner lead's returns grid: indicators by quarter, what is entered and its state") {
  SyncFixture f;
  App app(EnrolledDir(f, "pat", "police", "partner_lead"));
  json entry = {
      {"form", "indicator_return"},
      {"occurred_at", "2023-12-20T12:00:00Z"},
      {"fields",
       {{"indicator", "da_campaigns_supported"}, {"fy", 2023}, {"quarter", "Q3"}, {"value", 4}}}};
  REQUIRE(app("POST", "/app/api/records", entry).status == 201);
  json grid = app("GET", "/app/api/returns?fy=2023").body;
  CHECK(grid["quarters"] == json({"Q1", "Q2", "Q3", "Q4"}));
  CHECK(grid["indicators"].size() > 10);
  CHECK(grid["cells"]["da_campaigns_supported"]["Q3"]["value"] == 4);
  CHECK(grid["cells"]["da_campaigns_supported"]["Q3"]["state"] == "not_sent");
  CHECK(grid["cells"]["da_campaigns_supported"].count("Q2") == 0);  // still owed
  // Entering the same quarter again corrects it: one record.
  entry["fields"]["value"] = 5;
  REQUIRE(app("POST", "/app/api/records", entry).status == 201);
  grid = app("GET", "/app/api/returns?fy=2023").body;
  CHECK(grid["cells"]["da_campaigns_supported"]["Q3"]["value"] == 5);
  // Corrected in place: the key fields go back as they were, and are no edit.
  std::string record = grid["cells"]["da_campaigns_supported"]["Q3"]["record_id"];
  json answers = app("GET", "/app/api/records/" + record).body["fields"];
  answers["value"] = 6;
  CHECK(app("PUT", "/app/api/records/" + record, {{"fields", answers}}).status == 200);
  CHECK(app("GET", "/app/api/returns?fy=2023")
            .body["cells"]["da_campaigns_supported"]["Q3"]["value"] == 6);

  App worker_app(EnrolledDir(f, "amy", "police", "field_worker"));
  CHECK(worker_app("GET", "/app/api/returns?fy=2023").status == 403);
}
