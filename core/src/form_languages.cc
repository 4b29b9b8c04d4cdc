#include "form_languages.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace beatbook {

namespace form_languages {

namespace {

// A BCP 47 tag as forms use them: 2-3 lowercase letters, then subtags of 2-8 letters or digits
// ("cy", "en-GB", "en-XA"). Anything else is most likely a typing slip.
bool IsLanguageCode(const std::string& code) {
  std::size_t i = 0;
  while (i < code.size() && code[i] >= 'a' && code[i] <= 'z') ++i;
  if (i < 2 || i > 3) return false;
  while (i < code.size()) {
    if (code[i] != '-') return false;
    std::size_t start = ++i;
    while (i < code.size() && std::isalnum(static_cast<unsigned char>(code[i]))) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

std::string DeclaredList(const std::vector<Language>& languages) {
  std::string list;
  for (const auto& l : languages) list += (list.empty() ? "" : ", ") + l.code;
  return list;
}

const Language* Find(const std::vector<Language>& languages, const std::string& code) {
  for (const auto& l : languages) {
    if (l.code == code) return &l;
  }
  return nullptr;
}

std::string Named(const Language& l) { return l.name + " (" + l.code + ")"; }

// "" if `text` (in the default language) has its `language` translation, or when there is no
// text to translate.
std::string Missing(const std::string& text, const Translations& translated, const std::string& key,
                    const Language& language, const std::string& where) {
  if (text.empty() || translated.count(language.code)) return "";
  return where + " has no \"" + key + "::" + language.code + "\"";
}

}  // namespace

std::string ParseLanguages(const json& choices_doc, std::vector<Language>* out) {
  auto it = choices_doc.find("languages");
  if (it == choices_doc.end()) return "";  // English only: the default FormSet keeps
  if (!it->is_array() || it->empty()) {
    return "\"languages\" must be a list of {\"code\", \"name\", \"yes\", \"no\"}, the default "
           "language first";
  }
  std::vector<Language> languages;
  for (const auto& j : *it) {
    if (!j.is_object()) return "each of \"languages\" must be an object";
    Language l;
    for (auto [key, value] : {std::pair<const char*, std::string*>{"code", &l.code},
                              {"name", &l.name},
                              {"yes", &l.yes},
                              {"no", &l.no}}) {
      auto v = j.find(key);
      if (v == j.end() || !v->is_string() || v->get<std::string>().empty()) {
        return "language " + j.dump() + " needs a non-empty \"" + key + "\"";
      }
      *value = v->get<std::string>();
    }
    if (!IsLanguageCode(l.code)) {
      return "language code '" + l.code + "' is not a language tag like en, cy or en-GB";
    }
    if (Find(languages, l.code)) return "language '" + l.code + "' is declared twice";
    languages.push_back(std::move(l));
  }
  *out = std::move(languages);
  return "";
}

std::string ReadTranslations(const json& j, const std::vector<Language>& languages,
                             Translations* labels, Translations* helps) {
  if (!j.is_object()) return "";
  for (const auto& [key, value] : j.items()) {
    std::size_t sep = key.find("::");
    if (sep == std::string::npos) continue;
    std::string what = key.substr(0, sep);
    std::string code = key.substr(sep + 2);
    Translations* into = what == "label" ? labels : what == "help" && helps ? helps : nullptr;
    if (into == nullptr) {
      return "\"" + key + "\": only " + (helps ? "\"label\" and \"help\" are" : "\"label\" is") +
             " given in other languages here";
    }
    if (code == languages.front().code) {
      return "\"" + key + "\": the plain \"" + what + "\" is already in " +
             Named(languages.front()) + ", the default language";
    }
    if (!Find(languages, code)) {
      return "\"" + key + "\": '" + code + "' is not one of the languages choices.json declares (" +
             DeclaredList(languages) + ")";
    }
    if (!value.is_string() || value.get<std::string>().empty()) {
      return "\"" + key + "\" must be a non-empty text";
    }
    (*into)[code] = value.get<std::string>();
  }
  return "";
}

std::string CheckLanguages(const std::vector<Language>& languages, FormDef* form) {
  std::set<std::string> used;
  auto note = [&](const Translations& t) {
    for (const auto& [code, text] : t) used.insert(code);
  };
  note(form->labels);
  note(form->helps);
  for (const auto& f : form->fields) {
    note(f.labels);
    note(f.helps);
  }
  form->languages = {languages.front().code};
  for (const auto& language : languages) {
    if (!used.count(language.code)) continue;
    form->languages.push_back(language.code);
    std::string why = Missing(form->label, form->labels, "label", language, "the form");
    if (why.empty()) why = Missing(form->help, form->helps, "help", language, "the form");
    for (const auto& f : form->fields) {
      std::string field = "field '" + f.name + "'";
      if (why.empty()) why = Missing(f.label, f.labels, "label", language, field);
      if (why.empty()) why = Missing(f.help, f.helps, "help", language, field);
      for (const auto& c : f.choices) {
        if (!why.empty()) break;
        why = Missing(c.label, c.labels, "label", language,
                      field + "'s choice '" + c.code + "' (choices.json)");
      }
    }
    if (!why.empty()) {
      return "is partly in " + Named(language) + ": " + why +
             ". A form is offered in a language only when every text it shows is in it";
    }
  }
  return "";
}

}  // namespace form_languages

const std::string& TextIn(const std::string& text, const Translations& translations,
                          const std::string& language) {
  auto it = translations.find(language);
  return it == translations.end() ? text : it->second;
}

bool FormDef::HasLanguage(const std::string& language) const {
  return std::find(languages.begin(), languages.end(), language) != languages.end();
}

FormDef FormDef::InLanguage(const std::string& language) const {
  FormDef shown = *this;
  if (!HasLanguage(language)) return shown;
  shown.label = TextIn(label, labels, language);
  shown.help = TextIn(help, helps, language);
  for (auto& f : shown.fields) {
    f.label = TextIn(f.label, f.labels, language);
    f.help = TextIn(f.help, f.helps, language);
    for (auto& c : f.choices) c.label = TextIn(c.label, c.labels, language);
  }
  return shown;
}

const Language* FormSet::FindLanguage(const std::string& code) const {
  for (const auto& l : languages_) {
    if (l.code == code) return &l;
  }
  return nullptr;
}

}  // namespace beatbook
