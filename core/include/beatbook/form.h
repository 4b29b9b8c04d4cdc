// Forms as data: the definitions field staff fill in, loaded from the JSON in `schema/`.
//
//   FormSet forms;
//   Status s = FormSet::LoadDir("schema", &forms);
//   const FormDef* f = forms.Latest("outreach_contact");
//
// A FormSet holds every version of every form plus the shared choice lists. It is immutable once
// loaded, so it may be shared between threads. The JSON shapes are documented in
// docs/forms.md; loading checks them and names the file, form and field of any mistake.
//
// Languages: the plain "label" and "help" are in the form set's default language (the first of
// choices.json's "languages"; English when there are none). Others sit beside them as
// "label::cy" and "help::cy", as XLSForm writes them. A form is offered in a language only when
// every text it shows has it (checked on loading), and records hold codes, never labels:
//
//   const FormDef* f = forms.Latest("outreach_contact");
//   FormDef shown = f->InLanguage("cy");  // the same form with its texts in Welsh
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/gazetteer.h"
#include "beatbook/return_rules.h"
#include "beatbook/role.h"
#include "beatbook/status.h"

namespace beatbook {

struct RecordState;  // beatbook/record.h

using json = nlohmann::json;

enum class FieldType {
  kText,
  kInteger,
  kNumber,
  kBoolean,
  kDateTime,
  kSelectOne,
  kSelectMultiple,
  kGeopoint,  // a place: "LATITUDE LONGITUDE [ACCURACY]" (beatbook/geopoint.h)
  kImage,     // a photo, held as its attachment name "HASH.jpg" (beatbook/attachment.h)
};

// "text", "integer", ... as written in the form JSON.
const char* FieldTypeName(FieldType type);

// When a field applies (XLSForm's `relevant`): the field only applies while the condition on
// another field holds; otherwise it must be left empty.
struct Relevance {
  enum class Op { kEquals, kIn, kInList, kIncludes, kPresent };
  std::string field;  // the field the condition reads
  Op op = Op::kPresent;
  json operand;                      // the value, values or code for kEquals/kIn/kIncludes
  std::set<std::string> list_codes;  // resolved codes for kInList
  std::string Describe() const;      // "when 'indicator' is one of return_indicators"
};

// A text in the languages other than the default: language code -> text.
using Translations = std::map<std::string, std::string>;

// `text` in `language`: its translation there, or `text` itself (the default language's).
const std::string& TextIn(const std::string& text, const Translations& translations,
                          const std::string& language);

// One language forms may be written in (choices.json's "languages").
struct Language {
  std::string code;  // BCP 47, as in "label::CODE": "en", "cy", "en-XA"
  std::string name;  // in the language itself, for a picker: "Cymraeg"
  std::string yes;   // how a yes/no question's two answers read in it
  std::string no;
};

struct Choice {
  std::string code;
  std::string label;
  Translations labels;
};

struct FieldDef {
  std::string name;
  FieldType type = FieldType::kText;
  std::string label;
  std::string help;
  Translations labels;  // "label::LANG"
  Translations helps;   // "help::LANG"
  bool required = false;
  std::optional<double> min;
  std::optional<double> max;
  std::size_t max_length = 0;  // text only; 0 means tunables::kDefaultMaxTextLength
  std::vector<std::string> choice_lists;
  std::vector<Choice> choices;  // resolved from choice_lists, in order
  std::set<std::string> choice_codes;
  bool sensitive = false;  // excluded from exports unless asked for
  // A text field answered by picking from the partnership's named places (beatbook/gazetteer.h)
  // or typing another ("places": true).
  bool places = false;
  // A yes/no field whose Yes puts the record on the safeguarding queue ("safeguarding": true;
  // docs/safeguarding.md): the coordinator acknowledges it and records the action taken.
  bool safeguarding = false;
  // An image field whose photos keep their location metadata ("keep_location": true); by
  // default it is removed on the device and refused by the server.
  bool keep_location = false;
  // "keyed_hash": text that must be a person key computed on the device (beatbook/subject_key.h),
  // 64 lowercase hex digits, so a name typed there is refused everywhere.
  std::string format;
  std::string not_before;  // a date-time field (or "occurred_at") this must not precede
  std::optional<Relevance> relevant;
  // Choices only some orgs may pick ("choice_orgs": {"op_fortress": ["police"]}): code -> orgs.
  std::map<std::string, std::set<std::string>> choice_orgs;
};

// Who may log a form ("writers" in the form JSON; docs/forms.md). Empty sets mean anyone. The
// coordinator may log any form.
struct Writers {
  RoleSet roles;
  std::set<std::string> orgs;
  // A field naming a return indicator: only its owners' partner leads (and the coordinator on an
  // owner's behalf) may write the record (beatbook/return_rules.h).
  std::string owners_of;
};

struct FormDef {
  std::string name;
  int version = 0;
  std::string label;
  std::string help;
  Translations labels;
  Translations helps;
  // The languages every text of this form is in: the default first, then the others in the
  // order choices.json declares them.
  std::vector<std::string> languages;
  std::vector<FieldDef> fields;
  Writers writers;
  // Fields whose values make the record's id (beatbook/record.h, NaturalKeyId): a record entered
  // twice with the same values is one record. Empty for forms whose records get fresh ids.
  std::vector<std::string> natural_key;
  std::set<std::string> immutable;  // fields that cannot be edited once stored
  json source;                      // the JSON it was loaded from

  const FieldDef* Find(const std::string& field_name) const;
  // Whether the form asks for a photo (an image field).
  bool HasImageField() const;
  // The photos `values` (a record's or draft's field values) give this form's image fields, as
  // (field, photo name) pairs in the form's order; answers that are not text are left out.
  std::vector<std::pair<std::string, std::string>> PhotosIn(const json& values) const;
  // Whether `state` (a record of this form) answers Yes to a safeguarding question.
  bool RaisesSafeguardingConcern(const RecordState& state) const;
  // Whether the form's texts are all in `language` (the default included).
  bool HasLanguage(const std::string& language) const;
  // A copy whose labels, help texts and choice labels are in `language`; the form unchanged
  // when it is not in that language. Names, codes and rules are the same, so a record checked
  // against the copy is checked as against the form.
  FormDef InLanguage(const std::string& language) const;
};

class FormSet {
 public:
  // Loads `dir`/choices.json, every `dir`/forms/*.json, the return rules of
  // `dir`/indicators.json and the places of `dir`/places.json (each if there is one).
  static Status LoadDir(const std::string& dir, FormSet* out);
  // Loads the document ToJson() writes: {"choices": {"lists": {...}}, "forms": [FORM, ...],
  // "returns": RULES, "places": PLACES} ("returns" and "places" may be missing: a store written
  // before they existed).
  static Status FromJson(const json& doc, FormSet* out);
  json ToJson() const;

  // The form `name` at `version`, or nullptr.
  const FormDef* Find(const std::string& name, int version) const;
  // The highest version of form `name`, or nullptr.
  const FormDef* Latest(const std::string& name) const;
  // Names of all forms, sorted.
  std::vector<std::string> FormNames() const;
  // The choice list `name`, or nullptr.
  const std::vector<Choice>* List(const std::string& name) const;
  // The languages forms may be written in, the default first (never empty).
  const std::vector<Language>& languages() const { return languages_; }
  const Language& default_language() const { return languages_.front(); }
  // The language `code`, or nullptr if choices.json does not declare it.
  const Language* FindLanguage(const std::string& code) const;
  // True if any version of any form marks a field of this name sensitive (notes, comments): where
  // a value is shown without its form (a conflict), such a field's values are withheld.
  bool AnyMarksSensitive(const std::string& field) const;
  bool empty() const { return forms_.empty(); }
  // The partnership's named places (schema/places.json); empty if there is none.
  const Gazetteer& places() const { return places_; }
  // Who reports which partner return (beatbook/return_rules.h); empty if none were loaded.
  const ReturnRules& returns() const { return returns_; }
  // The latest version of the form partner returns are entered on (the one whose writers name
  // its indicator's owners, `writers.owners_of`), or nullptr.
  const FormDef* ReturnForm() const;

 private:
  Status AddForm(const json& form_json, const std::string& where);
  json choices_doc_;
  std::vector<Language> languages_ = {{"en", "English", "Yes", "No"}};
  std::map<std::string, std::vector<Choice>> lists_;
  std::map<std::pair<std::string, int>, FormDef> forms_;
  ReturnRules returns_;
  Gazetteer places_;
};

}  // namespace beatbook
