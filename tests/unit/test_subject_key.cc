// Person keys: the same person gives the same key however the name is typed, a different person
// or secret gives another, and bad details are refused; a form's keyed_hash field takes nothing
// but such a key.
#include <doctest/doctest.h>

#include "beatbook/crypto.h"
#include "beatbook/subject_key.h"
#include "beatbook/validation.h"
#include "support/schema_dir.h"

using namespace beatbook;

TEST_CASE("a person key depends on the person and the partnership's secret, not on typing") {
  CHECK(NormaliseName("  Jane   O'Neill-Smith ") == "jane oneillsmith");
  CHECK(NormaliseName("JANE o'neill-smith") == "jane oneillsmith");
  // What tablet keyboards type: a curly apostrophe, a no-break space, an accented capital.
  CHECK(NormaliseName("Jane\xC2\xA0O\xE2\x80\x99Neill") == "jane oneill");
  CHECK(NormaliseName("\xC3\x89lodie") == NormaliseName("\xC3\xA9lodie"));
  std::string a, b, c, d;
  REQUIRE(SubjectKey("secret-1", "Jane O'Neill", "1990-02-03", &a).ok());
  REQUIRE(SubjectKey("secret-1", " jane  oneill ", "1990-02-03", &b).ok());
  REQUIRE(SubjectKey("secret-1", "Jane O'Neill", "1990-02-04", &c).ok());
  REQUIRE(SubjectKey("secret-2", "Jane O'Neill", "1990-02-03", &d).ok());
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);  // another partnership's keys do not match ours
  CHECK(a.size() == 64);
  CHECK(a.find("jane") == std::string::npos);
  // HMAC-SHA-256 itself (RFC 4231, test case 2).
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

  std::string key;
  CHECK(SubjectKey("", "Jane", "1990-02-03", &key).message().find("no partnership subject key") !=
        std::string::npos);
  CHECK(SubjectKey("s", " '-. ", "1990-02-03", &key).message().find("no letters") !=
        std::string::npos);
  for (const char* bad : {"1990-02-30", "03/02/1990", "1990-2-3", ""}) {
    CAPTURE(bad);
    CHECK(SubjectKey("s", "Jane", bad, &key).IsInvalidArgument());
  }
}

TEST_CASE("a keyed_hash field refuses a name and accepts a key") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  const FormDef* form = forms.Latest("outreach_contact");
  nlohmann::json fields = {{"place", "Jewry Street"},
                           {"age_band", "18_24"},
                           {"safeguarding_concern", false},
                           {"subject_key", "Jane O'Neill 1990-02-03"}};
  auto errors = ValidateFields(*form, fields, 1'690'000'000'000);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rule == "format");
  CHECK(JoinErrors(errors).find("Jane") == std::string::npos);  // not echoed back
  std::string key;
  REQUIRE(SubjectKey("s", "Jane O'Neill", "1990-02-03", &key).ok());
  fields["subject_key"] = key;
  CHECK(ValidateFields(*form, fields, 1'690'000'000'000).empty());
}
