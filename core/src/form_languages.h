// Reading and checking a form set's languages (beatbook/form.h): choices.json's "languages", the
// "label::LANG" and "help::LANG" keys beside a text, and whether a form is whole in a language.
// Each function returns "" or what is wrong; the caller names the file, form and field.
#pragma once

#include <string>
#include <vector>

#include "beatbook/form.h"

namespace beatbook::form_languages {

// choices.json's "languages": [{"code", "name", "yes", "no"}], the default first. Missing: the
// form set is in English only.
std::string ParseLanguages(const json& choices_doc, std::vector<Language>* out);

// The "label::LANG" (and, unless `helps` is nullptr, "help::LANG") keys of a form, field or
// choice. LANG must be a declared language other than the default; no other key may hold "::".
std::string ReadTranslations(const json& j, const std::vector<Language>& languages,
                             Translations* labels, Translations* helps);

// Sets form->languages: the default, then every language any of the form's own texts is in. A
// form is either whole in a language or not in it at all: every label and help text it has in
// the default language, its choices' labels included, must be there too.
std::string CheckLanguages(const std::vector<Language>& languages, FormDef* form);

}  // namespace beatbook::form_languages
