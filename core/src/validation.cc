#include "beatbook/validation.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "beatbook/attachment.h"
#include "beatbook/datetime.h"
#include "beatbook/geopoint.h"
#include "beatbook/indicators.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace {

bool IsKeyedHash(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string NumberText(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80           ? 0
                : (c >> 5) == 0x6  ? 1
                : (c >> 4) == 0xE  ? 2
                : (c >> 3) == 0x1E ? 3
                                   : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size() + (extra == 0 ? 1 : 0))
      return false;
    std::uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

// Whether `field` applies given the other values. A field without a condition always applies.
bool IsRelevant(const FieldDef& field, const json& fields) {
  if (!field.relevant) return true;
  const Relevance& r = *field.relevant;
  auto it = fields.find(r.field);
  if (it == fields.end() || IsEmptyValue(*it)) return false;
  const json& v = *it;
  switch (r.op) {
    case Relevance::Op::kPresent:
      return true;
    case Relevance::Op::kEquals:
      return v == r.operand;
    case Relevance::Op::kIn:
      for (const auto& o : r.operand) {
        if (v == o) return true;
      }
      return false;
    case Relevance::Op::kInList:
      return v.is_string() && r.list_codes.count(v.get<std::string>()) > 0;
    case Relevance::Op::kIncludes:
      if (!v.is_array()) return false;
      for (const auto& item : v) {
        if (item == r.operand) return true;
      }
      return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(std::vector<ValidationError>* errors) : errors_(errors) {}

  void Add(const std::string& field, const json* value, const std::string& rule,
           const std::string& what) {
    std::string value_text = value ? value->dump() : "";
    std::string msg = "field '" + field + "'";
    if (value) msg += ": value " + value_text;
    msg += " " + what;
    errors_->push_back({field, value_text, rule, msg});
  }

  void CheckValue(const FieldDef& f, const json& v, std::int64_t occurred_ms, const json& fields) {
    switch (f.type) {
      case FieldType::kText: {
        if (!v.is_string()) return Add(f.name, &v, "type", "is not text");
        if (!IsValidUtf8(v.get_ref<const std::string&>())) {
          return Add(f.name, nullptr, "type", "is not valid UTF-8 text");
        }
        if (std::string bad = ForbiddenCharacterIn(v.get_ref<const std::string&>(), true);
            !bad.empty()) {
          return Add(
              f.name, nullptr, "format",
              "holds a control or text-direction character (" + bad + "), which text may not hold");
        }
        if (f.format == "keyed_hash" && !IsKeyedHash(v.get_ref<const std::string&>())) {
          // The value is not echoed back: it may be exactly the name that must not travel.
          return Add(f.name, nullptr, "format",
                     "must be a person key computed on the device from the person's details "
                     "(64 hex digits), never a name or other identifying text");
        }
        size_t limit = f.max_length ? f.max_length : tunables::kDefaultMaxTextLength;
        size_t len = v.get_ref<const std::string&>().size();
        if (len > limit) {
          Add(f.name, nullptr, "max_length",
              "is " + std::to_string(len) + " characters long, over the maximum " +
                  std::to_string(limit));
        }
        return;
      }
      case FieldType::kInteger:
        if (!v.is_number_integer()) return Add(f.name, &v, "type", "is not a whole number");
        return CheckRange(f, v, v.get<double>());
      case FieldType::kNumber:
        if (!v.is_number()) return Add(f.name, &v, "type", "is not a number");
        if (!std::isfinite(v.get<double>()))
          return Add(f.name, &v, "type", "is not a finite number");
        return CheckRange(f, v, v.get<double>());
      case FieldType::kBoolean:
        if (!v.is_boolean()) Add(f.name, &v, "type", "is not true or false");
        return;
      case FieldType::kDateTime: {
        if (!v.is_string()) return Add(f.name, &v, "type", "is not a date-time string");
        std::int64_t ms = 0;
        Status s = ParseIsoDateTime(v.get<std::string>(), &ms);
        if (!s.ok()) return Add(f.name, nullptr, "type", s.message());
        CheckNotBefore(f, v, ms, occurred_ms, fields);
        return;
      }
      case FieldType::kSelectOne:
        if (!v.is_string()) return Add(f.name, &v, "type", "is not a single code");
        if (!f.choice_codes.count(v.get<std::string>())) {
          Add(f.name, &v, "choices", "is not one of the choices (" + ChoiceHint(f) + ")");
        }
        return;
      case FieldType::kGeopoint: {
        if (!v.is_string()) return Add(f.name, &v, "type", "is not a place (text)");
        Geopoint point;
        Status s = ParseGeopoint(v.get<std::string>(), &point);
        if (!s.ok()) Add(f.name, &v, "type", s.message());
        return;
      }
      case FieldType::kImage:
        if (!v.is_string() || !IsAttachmentName(v.get<std::string>())) {
          Add(f.name, &v, "type",
              "is not a photo's name (64 hex digits of its SHA-256, then .jpg or .png)");
        }
        return;
      case FieldType::kSelectMultiple: {
        if (!v.is_array()) return Add(f.name, &v, "type", "is not a list of codes");
        std::set<std::string> seen;
        for (const auto& item : v) {
          if (!item.is_string() || !f.choice_codes.count(item.get<std::string>())) {
            Add(f.name, &item, "choices", "is not one of the choices (" + ChoiceHint(f) + ")");
          } else if (!seen.insert(item.get<std::string>()).second) {
            Add(f.name, &item, "choices", "is picked twice");
          }
        }
        return;
      }
    }
  }

 private:
  void CheckRange(const FieldDef& f, const json& v, double x) {
    if (f.min && x < *f.min) Add(f.name, &v, "min", "is below the minimum " + NumberText(*f.min));
    if (f.max && x > *f.max) Add(f.name, &v, "max", "is above the maximum " + NumberText(*f.max));
  }

  void CheckNotBefore(const FieldDef& f, const json& v, std::int64_t ms, std::int64_t occurred_ms,
                      const json& fields) {
    if (f.not_before.empty()) return;
    std::int64_t floor_ms = occurred_ms;
    if (f.not_before != "occurred_at") {
      auto it = fields.find(f.not_before);
      if (it == fields.end() || !it->is_string()) return;
      if (!ParseIsoDateTime(it->get<std::string>(), &floor_ms).ok()) return;
    }
    if (ms < floor_ms) Add(f.name, &v, "not_before", "is before '" + f.not_before + "'");
  }

  static std::string ChoiceHint(const FieldDef& f) {
    std::string hint;
    size_t shown = 0;
    for (const auto& c : f.choices) {
      if (shown++ == 12) {
        hint += ", ...";
        break;
      }
      hint += (hint.empty() ? "" : ", ") + c.code;
    }
    return hint;
  }

  std::vector<ValidationError>* errors_;
};

}  // namespace

std::vector<ValidationError> ValidateFields(const FormDef& form, const json& fields,
                                            std::int64_t occurred_ms) {
  std::vector<ValidationError> errors;
  Checker check(&errors);
  if (!fields.is_object()) {
    errors.push_back({"fields", fields.dump(), "type", "fields must be a JSON object"});
    return errors;
  }
  for (const auto& [name, value] : fields.items()) {
    if (!form.Find(name)) {
      check.Add(
          name, nullptr, "unknown_field",
          "is not a field of form '" + form.name + "' version " + std::to_string(form.version));
    }
  }
  for (const auto& f : form.fields) {
    auto it = fields.find(f.name);
    bool present = it != fields.end() && !IsEmptyValue(*it);
    bool relevant = IsRelevant(f, fields);
    if (!present) {
      if (f.required && relevant) {
        check.Add(f.name, nullptr, "required",
                  f.relevant ? "is required " + f.relevant->Describe() : "is required");
      }
      continue;
    }
    if (!relevant) {
      check.Add(f.name, &*it, "not_relevant",
                "must be left empty: it only applies " + f.relevant->Describe());
      continue;
    }
    check.CheckValue(f, *it, occurred_ms, fields);
  }
  return errors;
}

bool IsEmptyValue(const json& v) {
  return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_array() && v.empty());
}

std::string ForbiddenCharacterIn(const std::string& text, bool line_breaks) {
  auto name = [](std::uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", cp);
    return std::string(buf);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      if (c == '\t' || (line_breaks && (c == '\n' || c == '\r'))) continue;
      return name(c);
    }
    if (c == 0xC2 && i + 1 < text.size()) {  // C1 controls, U+0080-U+009F
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return name(next);
    }
    if (c == 0xE2 && i + 2 < text.size()) {
      auto b1 = static_cast<unsigned char>(text[i + 1]);
      auto b2 = static_cast<unsigned char>(text[i + 2]);
      if ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9)) {
        return name(0x2000u + ((b1 & 0x3Fu) << 6) + (b2 & 0x3Fu));
      }
    }
  }
  return "";
}

std::string TruncateUtf8(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

Status CheckOccurredAt(std::int64_t occurred_ms, std::int64_t now_ms) {
  if (occurred_ms < tunables::kEarliestOccurredAtMs) {
    return Status::InvalidArgument("occurred_at " + FormatIsoUtc(occurred_ms) +
                                   " is before 2000-01-01: check the year");
  }
  if (occurred_ms > now_ms + tunables::kMaxClockAheadMs) {
    return Status::InvalidArgument("occurred_at " + FormatIsoUtc(occurred_ms) +
                                   " is in the future: check the date (and this device's clock)");
  }
  return Status::OK();
}

Status CheckOccurredAt(std::int64_t occurred_ms, std::int64_t now_ms, int first_fy) {
  BB_RETURN_IF_ERROR(CheckOccurredAt(occurred_ms, now_ms));
  if (occurred_ms < QuarterStartMs(first_fy, 1)) {
    return Status::InvalidArgument(
        "occurred_at " + FormatIsoUtc(occurred_ms) + " is before 1 April " +
        std::to_string(first_fy) +
        ", the start of the first year the plan reports: check the year");
  }
  return Status::OK();
}

std::string JoinErrors(const std::vector<ValidationError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.message;
  return out;
}

Status ParseFieldText(const FieldDef& f, const std::string& text, json* out) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("field '" + f.name + "': value '" + text + "' " + what);
  };
  if (text.empty()) {
    *out = nullptr;
    return Status::OK();
  }
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kDateTime:
    case FieldType::kSelectOne:
    case FieldType::kGeopoint:  // checked with the record, as any typed text
    case FieldType::kImage:
      *out = text;
      return Status::OK();
    case FieldType::kInteger: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno != 0 || *end != '\0') return bad("is not a whole number");
      *out = v;
      return Status::OK();
    }
    case FieldType::kNumber: {
      errno = 0;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (errno != 0 || *end != '\0' || !std::isfinite(v)) return bad("is not a number");
      if (v == std::floor(v) && std::fabs(v) < 9e15) {
        *out = static_cast<long long>(v);
      } else {
        *out = v;
      }
      return Status::OK();
    }
    case FieldType::kBoolean:
      if (text == "true" || text == "yes" || text == "1") {
        *out = true;
      } else if (text == "false" || text == "no" || text == "0") {
        *out = false;
      } else {
        return bad("is not true or false (use true/false, yes/no or 1/0)");
      }
      return Status::OK();
    case FieldType::kSelectMultiple: {
      json arr = json::array();
      std::stringstream in(text);
      std::string item;
      while (std::getline(in, item, ',')) {
        if (!item.empty()) arr.push_back(item);
      }
      *out = arr;
      return Status::OK();
    }
  }
  return bad("has an unknown type");
}

}  // namespace beatbook
