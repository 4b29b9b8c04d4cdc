// RecordState::ToText: a record's wire/storage text written directly. It must stay byte for byte
// what nlohmann::json writes for ToJson(): stored states are compared and spliced as text, so two
// writers of one state may never differ. tests/unit/test_record_text.cc checks that on seeded
// random records.
#include <cstdio>

#include "beatbook/record.h"

namespace beatbook {

namespace {

// A string as nlohmann::json::dump() writes it. Plain printable ASCII (nearly every envelope
// string, stamp and code) is copied as it is; anything else (escapes, non-ASCII text, invalid
// UTF-8, which dump() refuses) goes through the library itself.
void AppendString(const std::string& s, std::string* out) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
      *out += json(s).dump();
      return;
    }
  }
  *out += '"';
  *out += s;
  *out += '"';
}

void AppendInt(std::int64_t n, std::string* out) {
  char digits[24];
  int len = std::snprintf(digits, sizeof digits, "%lld", static_cast<long long>(n));
  out->append(digits, static_cast<std::size_t>(len));
}

void AppendValue(const json& v, std::string* out) {
  switch (v.type()) {
    case json::value_t::string:
      AppendString(v.get_ref<const json::string_t&>(), out);
      break;
    case json::value_t::number_integer:
      AppendInt(v.get<std::int64_t>(), out);
      break;
    case json::value_t::number_unsigned: {  // how the parser reads a non-negative whole number
      char digits[24];
      int len = std::snprintf(digits, sizeof digits, "%llu",
                              static_cast<unsigned long long>(v.get<std::uint64_t>()));
      out->append(digits, static_cast<std::size_t>(len));
      break;
    }
    case json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      break;
    case json::value_t::null:
      *out += "null";
      break;
    default:  // arrays, objects and floating-point numbers: rarer, and written by the library
      *out += v.dump();
      break;
  }
}

// {"b":..,"d":..,"t":..,"v":..}: members in the order a std::map keeps them, as ToJson's do.
void AppendRegister(const Register& r, bool with_base, std::string* out) {
  *out += '{';
  if (with_base && r.b != 0) {
    *out += "\"b\":";
    AppendInt(r.b, out);
    *out += ',';
  }
  *out += "\"d\":";
  AppendString(r.d, out);
  *out += ",\"t\":";
  AppendInt(r.t, out);
  *out += ",\"v\":";
  AppendValue(r.v, out);
  *out += '}';
}

void AppendMember(const char* name, std::string* out) {
  *out += '"';
  *out += name;
  *out += "\":";
}

}  // namespace

std::string RecordState::ToText(bool with_base) const {
  std::string out;
  out.reserve(256 + 96 * fields.size());
  // The envelope's members in sorted order: author, deleted, device, fields, form, form_version,
  // id, occurred_at, org, purged.
  out += "{\"author\":";
  AppendString(author, &out);
  if (deleted) {
    out += ',';
    AppendMember("deleted", &out);
    AppendRegister(*deleted, with_base, &out);
  }
  out += ",\"device\":";
  AppendString(device, &out);
  out += ",\"fields\":{";
  bool first = true;
  for (const auto& [name, reg] : fields) {
    if (!first) out += ',';
    first = false;
    AppendString(name, &out);
    out += ':';
    AppendRegister(reg, with_base, &out);
  }
  out += "},\"form\":";
  AppendString(form, &out);
  out += ",\"form_version\":";
  AppendInt(form_version, &out);
  out += ",\"id\":";
  AppendString(id, &out);
  if (occurred_at) {
    out += ',';
    AppendMember("occurred_at", &out);
    AppendRegister(*occurred_at, with_base, &out);
  }
  out += ",\"org\":";
  AppendString(org, &out);
  if (purged) out += ",\"purged\":true";
  out += '}';
  return out;
}

}  // namespace beatbook
