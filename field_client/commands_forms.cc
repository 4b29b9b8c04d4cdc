// The forms this device's worker may log (`forms`), the language they read them in (`language`,
// shared with the app) and the partnership's named places (`places`): docs/interfaces.md.
#include <iostream>

#include "beatbook/json_text.h"
#include "beatbook/permissions.h"
#include "field_client/cli_support.h"
#include "field_client/commands.h"

namespace field_client {

using beatbook::json;
using beatbook::JsonText;
using beatbook::Status;

namespace {

// "English; also Cymraeg (cy)" for a form's languages, the one shown first.
std::string LanguagesLine(const beatbook::FormSet& forms, const beatbook::FormDef& form,
                          const std::string& shown) {
  std::string line;
  for (const auto& code : form.languages) {
    const beatbook::Language* l = forms.FindLanguage(code);
    if (code == shown || l == nullptr) continue;
    line += (line.empty() ? "; also " : ", ") + l->name + " (" + l->code + ")";
  }
  return forms.FindLanguage(shown)->name + line;
}

// The form as `forms --json` gives it: its JSON, with the plain texts in `shown` (the
// translations stay beside them) and each field's choices expanded to those this worker's org
// may pick.
json FormJson(const beatbook::FormSet& forms, const beatbook::Identity& me,
              const beatbook::FormDef& form, const std::string& shown) {
  const beatbook::FormDef in = form.InLanguage(shown);
  json fj = form.source;
  fj["label"] = in.label;
  if (!in.help.empty()) fj["help"] = in.help;
  fj["language"] = shown;
  fj["languages"] = form.languages;
  for (auto& field : fj["fields"]) {
    const beatbook::FieldDef* def = in.Find(field["name"]);
    if (!def->label.empty()) field["label"] = def->label;
    if (!def->help.empty()) field["help"] = def->help;
    if (def->choices.empty()) continue;
    field["choices"] = json::array();
    for (const auto& c : def->choices) {
      if (!beatbook::MayPickChoice(forms, me.role, me.org, form, *def, c.code)) continue;
      json choice = {{"code", c.code}, {"label", c.label}};
      for (const auto& [code, label] : c.labels) choice["label::" + code] = label;
      field["choices"].push_back(std::move(choice));
    }
  }
  return fj;
}

void PrintForm(const json& fj, const std::string& languages) {
  std::cout << fj["form"].get<std::string>() << " (version " << fj["version"]
            << "): " << fj.value("label", "") << "  [" << languages << "]\n";
  for (const auto& field : fj["fields"]) {
    std::cout << "  " << field["name"].get<std::string>() << "  "
              << field["type"].get<std::string>()
              << (field.value("required", false) ? ", required" : "");
    if (field.contains("min")) std::cout << ", min " << field["min"];
    if (field.contains("max")) std::cout << ", max " << field["max"];
    if (field.contains("relevant")) std::cout << ", only " << JsonText(field["relevant"]);
    if (field.value("sensitive", false)) std::cout << ", sensitive";
    std::cout << "  \"" << field.value("label", "") << "\"";
    if (field.contains("choices")) {
      std::string choices;
      for (const auto& c : field["choices"]) {
        choices += (choices.empty() ? "" : ", ") + c["code"].get<std::string>() + " \"" +
                   c.value("label", "") + "\"";
      }
      std::cout << ": " << choices;
    }
    std::cout << "\n";
  }
}

}  // namespace

int RunForms(const std::string& data, bool as_json, const std::string& language) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  const auto& forms = store->forms();
  std::string chosen = language;
  if (chosen.empty()) {
    if (Status s = store->Language(&chosen); !s.ok()) return Fail(s);
  } else if (!forms.FindLanguage(chosen)) {
    std::string known;
    for (const auto& l : forms.languages()) known += (known.empty() ? "" : ", ") + l.code;
    return Fail("--language: no forms are written in '" + chosen + "'; the languages are " + known);
  }
  json out = {{"forms", json::array()}};
  const beatbook::Identity& me = store->identity();
  for (const auto& name : forms.FormNames()) {
    const beatbook::FormDef* f = forms.Latest(name);
    // Only what this device's worker may log: the form's writers, and the choices their org may
    // pick.
    if (!beatbook::MayLogForm(forms, me.role, me.org, *f)) continue;
    // A form not written in the chosen language is shown in the default one.
    const std::string shown = f->HasLanguage(chosen) ? chosen : f->languages.front();
    json fj = FormJson(forms, me, *f, shown);
    if (!as_json) PrintForm(fj, LanguagesLine(forms, *f, shown));
    out["forms"].push_back(std::move(fj));
  }
  if (as_json) std::cout << JsonText(out) << "\n";
  return kExitOk;
}

int RunPlaces(const std::string& data, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  std::string language;
  if (Status s = store->Language(&language); !s.ok()) return Fail(s);
  const auto& places = store->forms().places().places();
  json list = json::array();
  for (const auto& p : places) {
    list.push_back({{"code", p.code},
                    {"label", beatbook::TextIn(p.label, p.labels, language)},
                    {"kind", p.kind}});
  }
  if (as_json) {
    std::cout << JsonText({{"places", list}}) << "\n";
    return kExitOk;
  }
  if (list.empty()) std::cout << "No named places: the partnership has not listed any.\n";
  for (const auto& p : list) {
    std::cout << p["label"].get<std::string>() << "  (" << p["kind"].get<std::string>() << ")\n";
  }
  return kExitOk;
}

int RunLanguage(const std::string& data, const std::string& language, bool as_json) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  if (!language.empty()) {
    if (Status s = store->SetLanguage(language); !s.ok()) return Fail(s);
  }
  std::string chosen;
  if (Status s = store->Language(&chosen); !s.ok()) return Fail(s);
  const auto& forms = store->forms();
  if (as_json) {
    json list = json::array();
    for (const auto& l : forms.languages()) list.push_back({{"code", l.code}, {"name", l.name}});
    std::cout << JsonText({{"language", chosen}, {"languages", list}}) << "\n";
    return kExitOk;
  }
  for (const auto& l : forms.languages()) {
    std::cout << (l.code == chosen ? "* " : "  ") << l.code << "  " << l.name << "\n";
  }
  return kExitOk;
}

}  // namespace field_client
