// Pseudonymous people: the `subject_key` of an outreach contact, computed on the tablet from the
// person's name and date of birth with a keyed hash (HMAC-SHA-256) under the partnership's
// subject secret, which every device receives at enrolment. The same person gives the same key
// on every device, so indicators can count distinct people across partners, while the central
// store never receives a name: the details are used here and dropped.
//
//   std::string key;
//   Status s = SubjectKey(identity.subject_secret, "Jane  O'Neill", "1990-02-03", &key);
//   // key: 64 hex digits, the same for "jane o'neill" and "JANE ONEILL" on any device
//
// Normalisation: letters and digits only, lower case (ASCII), words joined by one space, so
// spacing, case and punctuation do not split a person in two. A hash under a secret key cannot be
// reversed by trying names unless the secret leaks; devices keep it beside their credential.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/status.h"

namespace beatbook {

// The name as it is hashed: "  Jane  O'Neill " -> "jane oneill".
std::string NormaliseName(const std::string& name);

// InvalidArgument if there is no secret (a stand-alone device), the name has no letters or
// digits, or `dob` is not a real date written YYYY-MM-DD.
Status SubjectKey(const std::string& secret, const std::string& name, const std::string& dob,
                  std::string* key);

// Sets `form`'s person-key field (the one with "format": "keyed_hash") in `fields` to the key of
// the person `name`, born `dob`. InvalidArgument if the form has no such field, either detail is
// missing, or SubjectKey refuses them. The name and date of birth are not kept anywhere.
Status SetSubjectKeyField(const std::string& secret, const FormDef& form, const std::string& name,
                          const std::string& dob, nlohmann::json* fields);

}  // namespace beatbook
