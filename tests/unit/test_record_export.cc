// Record exports: columns from the form, sensitive fields withheld unless asked for, and CSV that
// a spreadsheet shows as text.
#include <doctest/doctest.h>

#include "beatbook/record_export.h"
#include "csv.h"
#include "support/schema_dir.h"

using namespace beatbook;
using nlohmann::json;

namespace {

RecordState Contact(const std::string& id, json fields) {
  RecordState r;
  r.id = id;
  r.form = "outreach_contact";
  r.form_version = 1;
  r.org = "street_pastors";
  r.author = "amy";
  r.device = "dev-a";
  r.occurred_at = Register{"2023-06-01T22:00:00Z", 1, "dev-a", 0};
  r.deleted = Register{false, 1, "dev-a", 0};
  for (const auto& [k, v] : fields.items()) r.fields[k] = Register{v, 1, "dev-a", 0};
  return r;
}

}  // namespace

TEST_CASE("a record export withholds sensitive fields unless they are asked for") {
  FormSet forms;
  REQUIRE(FormSet::LoadDir(test::SchemaDir(), &forms).ok());
  std::vector<RecordState> records = {
      Contact("r1", {{"place", "Jewry Street"},
                     {"referrals", {"stop", "trinity"}},
                     {"safeguarding_concern", true},
                     {"notes", "=HYPERLINK(\"http://x\")"}}),
      Contact("r2", {{"place", "High St, by the \"Buttercross\""}})};

  RecordTable hidden = TabulateRecords(forms, "outreach_contact", records, false);
  CHECK(hidden.withheld == std::vector<std::string>{"notes"});
  CHECK(std::find(hidden.columns.begin(), hidden.columns.end(), "notes") == hidden.columns.end());
  CHECK(hidden.columns[0] == "id");
  CHECK(hidden.columns[4] == forms.Latest("outreach_contact")->fields[0].name);
  std::string csv = RenderRecordsCsv(hidden);
  CHECK(csv.find("HYPERLINK") == std::string::npos);
  CHECK(csv.find("stop; trinity") != std::string::npos);
  CHECK(csv.find(",yes") != std::string::npos);
  CHECK(csv.find("\"High St, by the \"\"Buttercross\"\"\"") != std::string::npos);

  RecordTable shown = TabulateRecords(forms, "outreach_contact", records, true);
  CHECK(shown.withheld.empty());
  csv = RenderRecordsCsv(shown);
  // The formula is shown as text: a leading ' and the cell quoted for its quotes.
  CHECK(csv.find("\"'=HYPERLINK(\"\"http://x\"\")\"") != std::string::npos);
  CHECK(CsvText("\xEF\xBC\x9D"
                "1+1") ==
        "'\xEF\xBC\x9D"
        "1+1");  // a full-width =
  CHECK(CsvText("-3 degrees") == "'-3 degrees");
  CHECK(CsvText("plain") == "plain");
  json j = RecordsJson(shown);
  CHECK(j["rows"].size() == 2);
  CHECK(j["columns"].size() == shown.columns.size());
}
