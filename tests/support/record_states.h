// Record states for tests, as a device would have written them.
//
//   RecordState s = NewRecord(Envelope("r1", "street_brief", "police", "amy", "dev-a"), t,
//                             "2023-06-01T21:00:00Z", {{"place", "A"}, {"attendees", 1}});
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "beatbook/record.h"

namespace beatbook::test {

// A record's envelope with no registers: the start of a change to an existing record.
inline RecordState Envelope(const std::string& id, const std::string& form, const std::string& org,
                            const std::string& author, const std::string& device,
                            int form_version = 1) {
  RecordState s;
  s.id = id;
  s.form = form;
  s.form_version = form_version;
  s.org = org;
  s.author = author;
  s.device = device;
  return s;
}

// `envelope` as its device first wrote it: occurred_at, "deleted": false and every field, each
// register stamped `t` by the envelope's device.
inline RecordState NewRecord(RecordState envelope, HlcStamp t, const std::string& occurred_at,
                             const nlohmann::json& fields) {
  const std::string& d = envelope.device;
  envelope.occurred_at = Register{occurred_at, t, d, 0};
  envelope.deleted = Register{false, t, d, 0};
  for (const auto& [name, value] : fields.items()) envelope.fields[name] = Register{value, t, d, 0};
  return envelope;
}

}  // namespace beatbook::test
