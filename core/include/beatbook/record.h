// Records, registers and the merge rule (docs/protocol.md, section 1).
//
// A RecordState is a record's envelope plus one Register per mutable part: occurred_at, deleted and
// each field. A change (what one log, edit or delete wrote) is a RecordState holding only the
// registers it touched. Merge() keeps, per register, the one with the larger (stamp, device): it is
// commutative, associative and idempotent, so replicas that saw the same changes are identical.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "beatbook/form.h"
#include "beatbook/hlc.h"
#include "beatbook/status.h"

namespace beatbook {

using json = nlohmann::json;

struct Register {
  json v;          // the value; null means empty
  HlcStamp t = 0;  // stamp of the write
  std::string d;   // device that wrote it
  HlcStamp b = 0;  // in a change: stamp of the register it replaced (0 = none); else 0

  // True if this register orders after `other` by (t, d).
  bool After(const Register& other) const { return t != other.t ? t > other.t : d > other.d; }
};

struct RecordState {
  std::string id;
  std::string form;
  int form_version = 0;
  std::string org;
  std::string author;
  std::string device;
  std::optional<Register> occurred_at;
  std::optional<Register> deleted;
  std::map<std::string, Register> fields;
  // Removed under the retention policy (sync_server purge): the envelope stays, every register is
  // gone, and no later write brings any back. Only the server sets it.
  bool purged = false;

  bool IsDeleted() const {
    return purged || (deleted && deleted->v.is_boolean() && deleted->v.get<bool>());
  }
  std::string OccurredAt() const;
  // Field name -> value, without empty (null) fields.
  json FieldValues() const;
  // The largest stamp of any register (0 if none).
  HlcStamp MaxStamp() const;

  // The wire/storage form (docs/protocol.md). `with_base` keeps the "b" members of a change.
  json ToJson(bool with_base = false) const;
  // The same bytes as ToJson(with_base).dump(), written straight into a string without building
  // the JSON objects first: every saved state and outbox change goes through here, and building
  // them was a sixth of the server's cost of merging a record (docs/performance.md).
  std::string ToText(bool with_base = false) const;
  static Status FromJson(const json& j, RecordState* out);
  // FromJson in two steps, for a decoder that reads the members' types itself (the server's
  // streaming push decoder): with the types read, a state is accepted exactly when CheckDecoded
  // says so. `form_version` is stored as FormVersionFrom(the number read): 0 when out of range.
  static Status CheckDecoded(const RecordState& s);
  static int FormVersionFrom(std::int64_t n);
  // The interface's RECORD shape: {"id","form","form_version","org","author","device",
  // "occurred_at","fields"}.
  json ToRecordJson() const;
};

// The id of a record whose id derives from a natural key of its fields (the form's
// "natural_key"): for an indicator_return, (indicator, fy, quarter) and, unless the indicator has
// one figure for the partnership (combine `one`, beatbook/return_rules.h), the org, so the same
// return entered on two tablets is one record. nullopt for forms without a natural key, or when a
// key field is missing.
std::optional<std::string> NaturalKeyId(const FormSet& forms, const std::string& form,
                                        const json& fields, const std::string& org);

// Whether `id` has the shape of a natural-key id (a version-8 UUID, as NaturalKeyId makes). Such
// ids are kept for records whose form has a natural key: a record of another form taking one
// would block the partner return it belongs to, so devices and the server refuse it.
bool IsNaturalKeyShapedId(const std::string& id);

// "" if `state`'s id fits its form: the id derived from its natural key for a form that has one,
// and not natural-key shaped otherwise; else the reason, in plain words. Checked on every change,
// deletes included.
std::string CheckRecordId(const FormSet& forms, const RecordState& state);

// A concurrent write that lost a merge: kept for the coordinator to review.
struct Conflict {
  std::string record_id;
  std::string field;  // "occurred_at", "deleted" or a field name
  Register winner;
  Register loser;
};

struct MergeResult {
  bool changed = false;             // some register of the target was replaced
  std::vector<Conflict> conflicts;  // concurrent writes detected (docs/protocol.md, section 5)
};

// Merges `incoming` into `*target`. `target` may be empty (id == ""), in which case it takes
// `incoming`'s envelope. Both must have the same id otherwise. A record created on two devices
// (only possible with a natural-key id) keeps the creator with the smaller device id. A purged
// side absorbs the other: the result is purged, with no registers. A delete is final: a deleted
// record stays deleted whatever later "deleted": false arrives.
MergeResult Merge(RecordState* target, const RecordState& incoming);

}  // namespace beatbook
