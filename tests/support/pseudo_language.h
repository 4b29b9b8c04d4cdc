// A test language for the forms: a copy of schema/ with every label and help text also given in
// "en-XA" (the pseudo-locale Android uses: the English, accented and bracketed, so a test can
// tell at a glance which language it reads). The product ships English only; this proves the
// mechanism without pretending to a translation nobody checked.
//
//   test::TempDir dir;
//   test::WritePseudoSchema(dir / "schema", {"patrol"});  // patrol stays English-only
#pragma once

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "support/schema_dir.h"

namespace beatbook::test {

inline constexpr char kPseudoLanguage[] = "en-XA";

// "Place" -> "[Ƥláçé]": vowels accented, the whole in brackets (UTF-8).
inline std::string Pseudo(const std::string& text) {
  std::string out = "[";
  for (char c : text) {
    switch (c) {
      case 'a':
        out += "á";
        break;
      case 'e':
        out += "é";
        break;
      case 'i':
        out += "í";
        break;
      case 'o':
        out += "ó";
        break;
      case 'u':
        out += "ú";
        break;
      case 'P':
        out += "Ƥ";
        break;
      default:
        out += c;
    }
  }
  return out + "]";
}

inline void AddPseudoTexts(nlohmann::json* j) {
  for (const char* key : {"label", "help"}) {
    if (j->contains(key) && !(*j)[key].get<std::string>().empty()) {
      (*j)[std::string(key) + "::" + kPseudoLanguage] = Pseudo((*j)[key].get<std::string>());
    }
  }
}

// Writes schema/ into `to` with the test language declared, every choice translated and every
// form translated except those in `english_only`.
inline void WritePseudoSchema(const std::filesystem::path& to,
                              const std::set<std::string>& english_only = {}) {
  namespace fs = std::filesystem;
  fs::copy(SchemaDir(), to, fs::copy_options::recursive);
  auto read = [](const fs::path& p) { return nlohmann::json::parse(std::ifstream(p)); };
  auto write = [](const fs::path& p, const nlohmann::json& j) {
    std::ofstream(p, std::ios::trunc) << j.dump(1);
  };
  nlohmann::json choices = read(to / "choices.json");
  choices["languages"].push_back({{"code", kPseudoLanguage},
                                  {"name", "Pseudo (test)"},
                                  {"yes", Pseudo("Yes")},
                                  {"no", Pseudo("No")}});
  for (auto& [name, list] : choices["lists"].items()) {
    for (auto& choice : list) AddPseudoTexts(&choice);
  }
  write(to / "choices.json", choices);
  for (const auto& entry : fs::directory_iterator(to / "forms")) {
    nlohmann::json form = read(entry.path());
    if (english_only.count(form["form"].get<std::string>())) continue;
    AddPseudoTexts(&form);
    for (auto& field : form["fields"]) AddPseudoTexts(&field);
    write(entry.path(), form);
  }
}

}  // namespace beatbook::test
