// Drafts from the command line (`log --draft` keeps one): list, finish, discard. The app keeps
// its drafts in the same place (LocalStore), so either can finish what the other started.
#include <iostream>

#include "beatbook/datetime.h"
#include "beatbook/json_text.h"
#include "field_client/cli_support.h"
#include "field_client/commands.h"

namespace field_client {

using beatbook::json;
using beatbook::Status;

int RunDrafts(const std::string& data, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  std::vector<beatbook::Draft> drafts;
  if (Status s = store->ListDrafts(&drafts); !s.ok()) return Fail(s);
  if (as_json) {
    json out = {{"drafts", json::array()}};
    for (const auto& d : drafts) {
      out["drafts"].push_back({{"id", d.id},
                               {"form", d.form},
                               {"updated_at", beatbook::FormatIsoUtc(d.updated_ms)},
                               {"occurred_at", d.occurred_at ? json(*d.occurred_at) : json()},
                               {"fields", d.fields}});
    }
    std::cout << beatbook::JsonText(out) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : drafts) {
    rows.push_back({d.id, d.form, beatbook::FormatIsoUtc(d.updated_ms),
                    std::to_string(d.fields.size()) + " answered"});
  }
  PrintTable(std::cout, {"ID", "FORM", "SAVED", "FIELDS"}, rows);
  std::cout << drafts.size() << " draft" << (drafts.size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

int RunFinishDraft(const std::string& data, const std::string& id,
                   const std::vector<std::string>& sets) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  beatbook::Draft draft;
  if (Status s = store->GetDraft(id, &draft); !s.ok()) return Fail(s);
  beatbook::RecordInput input;
  input.form = draft.form;
  input.fields = draft.fields;
  // The answers given now complete or replace the draft's (an empty VALUE clears one).
  if (!sets.empty()) {
    const beatbook::FormDef* form = store->forms().Latest(draft.form);
    if (form == nullptr)
      return Fail("draft " + id + " is of form '" + draft.form +
                  "', which this device does not have");
    json more;
    if (Status s = ParseSets(*form, sets, &more); !s.ok()) return Fail(s);
    for (const auto& [name, value] : more.items()) {
      if (value.is_null()) {
        input.fields.erase(name);
      } else {
        input.fields[name] = value;
      }
    }
  }
  input.occurred_at = draft.occurred_at;
  std::string record;
  // Stored and the draft gone in one transaction; a draft that is not complete stays a draft.
  if (Status s = store->LogFromDraft(input, id, &record); !s.ok()) return Fail(s);
  std::cout << record << "\n";
  return kExitOk;
}

int RunDiscardDraft(const std::string& data, const std::string& id) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  if (Status s = store->DeleteDraft(id); !s.ok()) return Fail(s);
  std::cout << "discarded draft " << id << "\n";
  return kExitOk;
}

}  // namespace field_client
