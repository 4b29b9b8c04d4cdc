#include "beatbook/subject_key.h"

#include <cctype>
#include <cstring>
#include <utility>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"

namespace beatbook {

namespace {

// Tablet keyboards type these where a plain apostrophe, space or hyphen was meant.
std::string PlainPunctuation(const std::string& name) {
  static const std::pair<const char*, const char*> kPlain[] = {
      {"\xE2\x80\x98", "'"}, {"\xE2\x80\x99", "'"}, {"\xC2\xA0", " "},  // ‘ ’ no-break space
      {"\xE2\x80\x90", "-"}, {"\xE2\x80\x91", "-"}, {"\xE2\x80\x93", "-"}};  // hyphens, en dash
  std::string out = name;
  for (const auto& [from, to] : kPlain) {
    for (std::size_t at; (at = out.find(from)) != std::string::npos;)
      out.replace(at, std::strlen(from), to);
  }
  return out;
}

}  // namespace

std::string NormaliseName(const std::string& raw) {
  std::string name = PlainPunctuation(raw);
  std::string out;
  bool gap = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (std::isalnum(c) || c >= 0x80) {
      if (gap && !out.empty()) out += ' ';
      gap = false;
      // Latin-1 capitals (U+00C0-U+00DE, not the multiplication sign) to lower case: É = é.
      if (c == 0xC3 && i + 1 < name.size()) {
        unsigned char next = static_cast<unsigned char>(name[i + 1]);
        out += static_cast<char>(c);
        out += static_cast<char>(next >= 0x80 && next <= 0x9E && next != 0x97 ? next + 0x20 : next);
        ++i;
        continue;
      }
      out += static_cast<char>(std::tolower(c));  // other non-ASCII bytes are kept as they are
    } else if (std::isspace(c)) {
      gap = true;
    }
    // Punctuation (apostrophes, hyphens, dots) is dropped: O'Neill = ONeill.
  }
  return out;
}

Status SubjectKey(const std::string& secret, const std::string& name, const std::string& dob,
                  std::string* key) {
  if (secret.empty()) {
    return Status::InvalidArgument(
        "this device has no partnership subject key (stand-alone, or enrolled before person keys "
        "existed): enrol it with the server to record people");
  }
  std::string normal = NormaliseName(name);
  if (normal.empty()) return Status::InvalidArgument("the person's name has no letters or digits");
  std::int64_t ms = 0;
  if (dob.size() != 10 || !ParseIsoDateTime(dob + "T00:00:00Z", &ms).ok() ||
      FormatIsoUtc(ms).substr(0, 10) != dob) {
    return Status::InvalidArgument("date of birth '" + dob + "' is not a date (YYYY-MM-DD)");
  }
  *key = HmacSha256Hex(secret, "beatbook-subject-v1\n" + normal + "\n" + dob);
  return Status::OK();
}

Status SetSubjectKeyField(const std::string& secret, const FormDef& form, const std::string& name,
                          const std::string& dob, nlohmann::json* fields) {
  const FieldDef* target = nullptr;
  for (const auto& f : form.fields) {
    if (f.format == "keyed_hash") target = &f;
  }
  if (target == nullptr) {
    return Status::InvalidArgument("form '" + form.name + "' has no person-key field");
  }
  if (name.empty() || dob.empty()) {
    return Status::InvalidArgument("a person needs both a name and a date of birth");
  }
  std::string key;
  BB_RETURN_IF_ERROR(SubjectKey(secret, name, dob, &key));
  (*fields)[target->name] = key;
  return Status::OK();
}

}  // namespace beatbook
