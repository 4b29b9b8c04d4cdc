#include "beatbook/subject_key.h"

#include <cctype>

#include "beatbook/crypto.h"
#include "beatbook/datetime.h"

namespace beatbook {

std::string NormaliseName(const std::string& name) {
  std::string out;
  bool gap = false;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c >= 0x80) {  // bytes of non-ASCII letters are kept as they are
      if (gap && !out.empty()) out += ' ';
      out += static_cast<char>(std::tolower(c));
      gap = false;
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

}  // namespace beatbook
