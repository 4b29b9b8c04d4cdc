#include "beatbook/form.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "beatbook/record.h"
#include "beatbook/tunables.h"
#include "form_languages.h"

namespace beatbook {

namespace fs = std::filesystem;

const char* FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kText:
      return "text";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kNumber:
      return "number";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kDateTime:
      return "datetime";
    case FieldType::kSelectOne:
      return "select_one";
    case FieldType::kSelectMultiple:
      return "select_multiple";
    case FieldType::kGeopoint:
      return "geopoint";
    case FieldType::kImage:
      return "image";
  }
  return "?";
}

std::string Relevance::Describe() const {
  switch (op) {
    case Op::kEquals:
      return "when '" + field + "' is " + operand.dump();
    case Op::kIn:
      return "when '" + field + "' is one of " + operand.dump();
    case Op::kInList:
      return "when '" + field + "' is one of the list " + operand.get<std::string>();
    case Op::kIncludes:
      return "when '" + field + "' includes " + operand.dump();
    case Op::kPresent:
      return "when '" + field + "' has a value";
  }
  return "";
}

const FieldDef* FormDef::Find(const std::string& field_name) const {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

bool FormDef::HasImageField() const {
  for (const auto& f : fields) {
    if (f.type == FieldType::kImage) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> FormDef::PhotosIn(const json& values) const {
  std::vector<std::pair<std::string, std::string>> photos;
  if (!values.is_object()) return photos;
  for (const auto& f : fields) {
    if (f.type != FieldType::kImage) continue;
    auto it = values.find(f.name);
    if (it != values.end() && it->is_string()) photos.emplace_back(f.name, it->get<std::string>());
  }
  return photos;
}

bool FormDef::RaisesSafeguardingConcern(const RecordState& state) const {
  if (state.IsDeleted()) return false;
  for (const auto& f : fields) {
    if (!f.safeguarding) continue;
    auto it = state.fields.find(f.name);
    if (it != state.fields.end() && it->second.v == true) return true;
  }
  return false;
}

namespace {

bool ParseType(const std::string& s, FieldType* t) {
  static const std::pair<const char*, FieldType> kTypes[] = {
      {"text", FieldType::kText},
      {"integer", FieldType::kInteger},
      {"number", FieldType::kNumber},
      {"boolean", FieldType::kBoolean},
      {"datetime", FieldType::kDateTime},
      {"select_one", FieldType::kSelectOne},
      {"select_multiple", FieldType::kSelectMultiple},
      {"geopoint", FieldType::kGeopoint},
      {"image", FieldType::kImage}};
  for (const auto& [name, type] : kTypes) {
    if (s == name) {
      *t = type;
      return true;
    }
  }
  return false;
}

Status ReadJsonFile(const fs::path& path, json* out) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read " + path.string());
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    *out = json::parse(buf.str());
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument(path.string() + " is not valid JSON: " + e.what());
  }
  return Status::OK();
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

namespace {

// A field's "relevant" (XLSForm's relevant): "" or what is wrong with it.
std::string ParseRelevance(const json& r, const std::map<std::string, std::vector<Choice>>& lists,
                           Relevance* rel) {
  rel->field = Str(r, "field");
  if (rel->field.empty()) return "\"relevant\" needs a \"field\"";
  if (r.contains("equals")) {
    rel->op = Relevance::Op::kEquals;
    rel->operand = r["equals"];
  } else if (r.contains("in")) {
    rel->op = Relevance::Op::kIn;
    rel->operand = r["in"];
  } else if (r.contains("in_list")) {
    rel->op = Relevance::Op::kInList;
    rel->operand = r["in_list"];
    auto it = lists.find(rel->operand.get<std::string>());
    if (it == lists.end()) return "unknown list in \"relevant\"";
    for (const auto& c : it->second) rel->list_codes.insert(c.code);
  } else if (r.contains("includes")) {
    rel->op = Relevance::Op::kIncludes;
    rel->operand = r["includes"];
  } else if (r.contains("present")) {
    rel->op = Relevance::Op::kPresent;
  } else {
    return "\"relevant\" needs one of equals, in, in_list, includes, present";
  }
  return "";
}

// One field of a form: "" or what is wrong with it (the caller names the form and field).
std::string ParseField(const json& jf, const std::map<std::string, std::vector<Choice>>& lists,
                       const std::vector<Language>& languages, FieldDef* f) {
  if (!ParseType(Str(jf, "type"), &f->type)) return "unknown type '" + Str(jf, "type") + "'";
  f->label = Str(jf, "label");
  f->help = Str(jf, "help");
  std::string why = form_languages::ReadTranslations(jf, languages, &f->labels, &f->helps);
  if (!why.empty()) return why;
  f->required = jf.value("required", false);
  f->sensitive = jf.value("sensitive", false);
  f->safeguarding = jf.value("safeguarding", false);
  f->places = jf.value("places", false);
  if (f->places && f->type != FieldType::kText) {
    return "\"places\" offers the partnership's named places on a text field only";
  }
  if (f->safeguarding && f->type != FieldType::kBoolean)
    return "\"safeguarding\" marks a yes/no (boolean) field only";
  f->keep_location = jf.value("keep_location", false);
  if (f->keep_location && f->type != FieldType::kImage)
    return "\"keep_location\" keeps a photo's location, on an image field only";
  f->format = Str(jf, "format");
  if (!f->format.empty() && f->format != "keyed_hash")
    return "unknown format '" + f->format + "' (known: keyed_hash)";
  if (!f->format.empty() && f->type != FieldType::kText)
    return "a format applies to text fields only";
  if (jf.contains("min")) f->min = jf["min"].get<double>();
  if (jf.contains("max")) f->max = jf["max"].get<double>();
  f->max_length = jf.value("max_length", std::size_t{0});
  // A place is a line (the app offers suggestions on a one-line box only).
  if (f->places && (f->max_length == 0 || f->max_length > tunables::kMaxPlaceLength)) {
    return "a field offering places needs a \"max_length\" of at most " +
           std::to_string(tunables::kMaxPlaceLength);
  }
  f->not_before = Str(jf, "not_before");
  if (jf.contains("choices")) {
    for (const auto& list_name : jf["choices"]) {
      std::string ln = list_name.get<std::string>();
      auto it = lists.find(ln);
      if (it == lists.end()) return "unknown choice list '" + ln + "'";
      f->choice_lists.push_back(ln);
      for (const auto& c : it->second) {
        if (f->choice_codes.insert(c.code).second) f->choices.push_back(c);
      }
    }
  }
  bool is_select = f->type == FieldType::kSelectOne || f->type == FieldType::kSelectMultiple;
  if (is_select && f->choices.empty()) return "a select field needs \"choices\"";
  if (jf.contains("relevant")) {
    Relevance rel;
    if (std::string why = ParseRelevance(jf["relevant"], lists, &rel); !why.empty()) return why;
    f->relevant = std::move(rel);
  }
  if (jf.contains("choice_orgs")) {
    for (const auto& [code, orgs] : jf["choice_orgs"].items()) {
      if (!f->choice_codes.count(code)) return "choice_orgs names unknown code '" + code + "'";
      f->choice_orgs[code] = orgs.get<std::set<std::string>>();
    }
  }
  return "";
}

// The form-level properties beside its fields: who may log it, its natural key, the fields that
// cannot be edited. "" or what is wrong.
std::string ParseFormRules(const json& fj, FormDef* form) {
  if (fj.contains("writers")) {
    const json& w = fj["writers"];
    if (!w.is_object()) return "\"writers\" must be an object";
    if (w.contains("roles")) {
      if (!w["roles"].is_array()) return "\"writers\".\"roles\" must be a list of roles";
      for (const auto& name : w["roles"]) {
        std::optional<Role> role =
            name.is_string() ? ParseRole(name.get<std::string>()) : std::nullopt;
        if (!role) return "\"writers\".\"roles\" names " + name.dump() + ", which is not a role";
        form->writers.roles.Add(*role);
      }
    }
    // "orgs": "*" is every org, as an empty set is.
    if (w.contains("orgs") && w["orgs"].is_array()) {
      form->writers.orgs = w["orgs"].get<std::set<std::string>>();
    }
    form->writers.owners_of = Str(w, "owners_of");
  }
  if (fj.contains("natural_key")) {
    form->natural_key = fj["natural_key"].get<std::vector<std::string>>();
  }
  if (fj.contains("immutable")) form->immutable = fj["immutable"].get<std::set<std::string>>();
  return "";
}

// Cross-references within a form: every field a rule names must be one of its fields.
std::string CheckReferences(const FormDef& form) {
  for (const auto& f : form.fields) {
    if (f.relevant && !form.Find(f.relevant->field)) {
      return "field '" + f.name + "': relevant names unknown field '" + f.relevant->field + "'";
    }
    if (!f.not_before.empty() && f.not_before != "occurred_at" && !form.Find(f.not_before)) {
      return "field '" + f.name + "': not_before names unknown field";
    }
  }
  for (const auto& name : form.natural_key) {
    if (!form.Find(name)) return "natural_key names unknown field '" + name + "'";
  }
  for (const auto& name : form.immutable) {
    if (!form.Find(name)) return "immutable names unknown field '" + name + "'";
  }
  if (!form.writers.owners_of.empty() && !form.Find(form.writers.owners_of)) {
    return "writers.owners_of names unknown field '" + form.writers.owners_of + "'";
  }
  return "";
}

}  // namespace

Status FormSet::AddForm(const json& fj, const std::string& where) {
  auto bad = [&](const std::string& msg) { return Status::InvalidArgument(where + ": " + msg); };
  if (!fj.is_object()) return bad("a form must be a JSON object");
  FormDef form;
  form.source = fj;
  form.name = Str(fj, "form");
  if (form.name.empty()) return bad("missing \"form\" name");
  const std::string named = "form '" + form.name + "'";
  if (!fj.contains("version") || !fj["version"].is_number_integer() ||
      fj["version"].get<int>() < 1) {
    return bad(named + " needs an integer \"version\" >= 1");
  }
  form.version = fj["version"].get<int>();
  form.label = Str(fj, "label");
  form.help = Str(fj, "help");
  if (std::string why = form_languages::ReadTranslations(fj, languages_, &form.labels, &form.helps);
      !why.empty()) {
    return bad(named + ": " + why);
  }
  if (std::string why = ParseFormRules(fj, &form); !why.empty()) return bad(named + ": " + why);
  if (!fj.contains("fields") || !fj["fields"].is_array()) return bad("missing \"fields\" array");
  for (const auto& jf : fj["fields"]) {
    FieldDef f;
    f.name = Str(jf, "name");
    if (f.name.empty()) return bad(named + ": a field has no \"name\"");
    std::string at = named + " field '" + f.name + "': ";
    if (form.Find(f.name) || f.name == "occurred_at") {
      return bad(at + "name used twice or reserved");
    }
    if (std::string why = ParseField(jf, lists_, languages_, &f); !why.empty()) {
      return bad(at + why);
    }
    form.fields.push_back(std::move(f));
  }
  if (std::string why = CheckReferences(form); !why.empty()) {
    return bad(named + (why.rfind("field '", 0) == 0 ? " " : ": ") + why);
  }
  if (std::string why = form_languages::CheckLanguages(languages_, &form); !why.empty()) {
    return bad(named + " " + why);
  }
  auto key = std::make_pair(form.name, form.version);
  if (forms_.count(key)) {
    return bad(named + " version " + std::to_string(form.version) + " defined twice");
  }
  forms_.emplace(key, std::move(form));
  return Status::OK();
}

Status FormSet::FromJson(const json& doc, FormSet* out) {
  FormSet set;
  try {
    if (!doc.is_object() || !doc.contains("choices") || !doc.contains("forms")) {
      return Status::InvalidArgument("a form set needs \"choices\" and \"forms\"");
    }
    set.choices_doc_ = doc["choices"];
    if (!set.choices_doc_.contains("lists") || !set.choices_doc_["lists"].is_object()) {
      return Status::InvalidArgument("choices: missing \"lists\" object");
    }
    if (std::string why = form_languages::ParseLanguages(set.choices_doc_, &set.languages_);
        !why.empty()) {
      return Status::InvalidArgument("choices: " + why);
    }
    for (const auto& [name, items] : set.choices_doc_["lists"].items()) {
      std::vector<Choice> list;
      for (const auto& item : items) {
        Choice c{item.at("code").get<std::string>(), Str(item, "label"), {}};
        std::string why =
            form_languages::ReadTranslations(item, set.languages_, &c.labels, nullptr);
        if (!why.empty()) {
          return Status::InvalidArgument("choices: list '" + name + "' code '" + c.code +
                                         "': " + why);
        }
        list.push_back(std::move(c));
      }
      set.lists_[name] = std::move(list);
    }
    for (const auto& fj : doc["forms"]) {
      BB_RETURN_IF_ERROR(set.AddForm(fj, "form set"));
    }
    if (doc.contains("returns")) {
      Status s = ReturnRules::FromJson(doc["returns"], &set.returns_);
      if (!s.ok()) return Status::InvalidArgument("form set: " + s.message());
    }
    if (doc.contains("places")) {
      Status s = Gazetteer::FromJson(doc["places"], set.languages_, &set.places_);
      if (!s.ok()) return Status::InvalidArgument("form set: places: " + s.message());
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("form set has a value of the wrong type: ") +
                                   e.what());
  }
  *out = std::move(set);
  return Status::OK();
}

Status FormSet::LoadDir(const std::string& dir, FormSet* out) {
  fs::path root(dir);
  json doc = {{"forms", json::array()}};
  BB_RETURN_IF_ERROR(ReadJsonFile(root / "choices.json", &doc["choices"]));
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "forms", ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return Status::IoError("cannot list " + (root / "forms").string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  FormSet set;
  Status s = FromJson({{"choices", doc["choices"]}, {"forms", json::array()}}, &set);
  if (!s.ok())
    return Status::InvalidArgument((root / "choices.json").string() + ": " + s.message());
  for (const auto& path : files) {
    json fj;
    BB_RETURN_IF_ERROR(ReadJsonFile(path, &fj));
    try {
      BB_RETURN_IF_ERROR(set.AddForm(fj, path.string()));
    } catch (const json::exception& e) {
      return Status::InvalidArgument(path.string() + ": a value has the wrong type: " + e.what());
    }
  }
  if (set.forms_.empty()) return Status::InvalidArgument("no forms found in " + dir + "/forms");
  if (fs::exists(root / "indicators.json")) {
    json catalogue;
    BB_RETURN_IF_ERROR(ReadJsonFile(root / "indicators.json", &catalogue));
    Status r = ReturnRules::FromCatalogueJson(catalogue, &set.returns_);
    if (!r.ok())
      return Status::InvalidArgument((root / "indicators.json").string() + ": " + r.message());
  }
  if (fs::exists(root / "places.json")) {
    json places;
    BB_RETURN_IF_ERROR(ReadJsonFile(root / "places.json", &places));
    Status p = Gazetteer::FromJson(places, set.languages_, &set.places_);
    if (!p.ok())
      return Status::InvalidArgument((root / "places.json").string() + ": " + p.message());
  }
  *out = std::move(set);
  return Status::OK();
}

json FormSet::ToJson() const {
  json forms = json::array();
  for (const auto& [key, form] : forms_) forms.push_back(form.source);
  json doc = {{"choices", choices_doc_}, {"forms", forms}};
  if (!returns_.empty()) doc["returns"] = returns_.ToJson();
  if (!places_.empty()) doc["places"] = places_.ToJson();
  return doc;
}

const FormDef* FormSet::Find(const std::string& name, int version) const {
  auto it = forms_.find({name, version});
  return it == forms_.end() ? nullptr : &it->second;
}

const FormDef* FormSet::Latest(const std::string& name) const {
  const FormDef* best = nullptr;
  for (auto it = forms_.lower_bound({name, 0}); it != forms_.end() && it->first.first == name;
       ++it) {
    best = &it->second;
  }
  return best;
}

const FormDef* FormSet::ReturnForm() const {
  for (const auto& name : FormNames()) {
    const FormDef* form = Latest(name);
    if (form && !form->writers.owners_of.empty()) return form;
  }
  return nullptr;
}

std::vector<std::string> FormSet::FormNames() const {
  std::vector<std::string> names;
  for (const auto& [key, form] : forms_) {
    if (names.empty() || names.back() != key.first) names.push_back(key.first);
  }
  return names;
}

const std::vector<Choice>* FormSet::List(const std::string& name) const {
  auto it = lists_.find(name);
  return it == lists_.end() ? nullptr : &it->second;
}

bool FormSet::AnyMarksSensitive(const std::string& field) const {
  for (const auto& [key, form] : forms_) {
    const FieldDef* f = form.Find(field);
    if (f && f->sensitive) return true;
  }
  return false;
}

}  // namespace beatbook
