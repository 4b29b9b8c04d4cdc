#include "sync_server/api/push_decoder.h"

#include <cstdint>
#include <vector>

#include "beatbook/tunables.h"

namespace beatbook::server {

using nlohmann::json;

namespace {

// Receives the body's JSON events in order and fills a PushRequest. Every method returns false to
// stop at the first thing it is not sure of (`unsure_` is then set): the caller reads the body
// again as a tree. Where things are:
//   kTop         {"batch_id":..., "pending_after":..., "changes":[ ... ]}
//   kChangeList  the changes array
//   kChange      {"change_id":..., "id":..., ..., "occurred_at":REG, "fields":{...}}
//   kFields      {"name":REG, ...}
//   kRegister    {"v":VALUE, "t":..., "d":..., "b":...}
// A VALUE (a register's "v") is built as a small json value; members nobody reads are skipped.
class PushEvents {
 public:
  PushEvents(const FormSet& forms, PushRequest* out) : forms_(forms), out_(out) {}

  bool unsure() const { return unsure_; }
  bool Finished() const {
    return done_ && (seen_top_ & (kBatchId | kChanges)) == (kBatchId | kChanges);
  }

  // --- nlohmann::json SAX interface ---
  bool null() { return Scalar(json(nullptr)); }
  bool boolean(bool b) { return Scalar(json(b)); }
  bool number_integer(json::number_integer_t n) { return Scalar(json(n)); }
  bool number_unsigned(json::number_unsigned_t n) { return Scalar(json(n)); }
  bool number_float(json::number_float_t n, const json::string_t&) { return Scalar(json(n)); }
  bool string(json::string_t& s) { return Scalar(json(std::move(s))); }
  bool binary(json::binary_t&) { return Unsure(); }
  bool start_object(std::size_t) { return Open(/*object=*/true); }
  bool start_array(std::size_t) { return Open(/*object=*/false); }
  bool key(json::string_t& k);
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return Unsure();
  }

 private:
  enum Where { kStart, kTop, kChangeList, kChange, kFields, kRegister };
  // Members seen, as bits: a body with a member twice (the tree keeps the last) goes to the tree.
  static constexpr unsigned kBatchId = 1, kPendingAfter = 2, kChanges = 4;
  static constexpr unsigned kChangeId = 1, kId = 2, kForm = 4, kFormVersion = 8, kOrg = 16,
                            kAuthor = 32, kDevice = 64, kOccurredAt = 128, kDeleted = 256,
                            kFieldsMember = 512, kPurged = 1024;
  static constexpr unsigned kV = 1, kT = 2, kD = 4, kB = 8;
  static constexpr unsigned kEnvelope =
      kChangeId | kId | kForm | kFormVersion | kOrg | kAuthor | kDevice;

  bool Unsure() {
    unsure_ = true;
    return false;
  }
  bool Scalar(json value);
  bool Open(bool object);
  bool Close();
  bool EndChange();
  // Stores a scalar or a finished VALUE as the current member of a change or register.
  bool TakeChangeMember(json& value);
  bool TakeRegisterMember(json& value);
  // Adds `value` to the VALUE being built (its innermost open array or object).
  void AddToValue(json value);

  const FormSet& forms_;
  PushRequest* out_;
  bool done_ = false;
  bool unsure_ = false;

  Where where_ = kStart;
  int skip_depth_ = 0;  // > 0 inside a member nobody reads
  unsigned seen_top_ = 0;
  unsigned top_member_ = 0;  // the member the next value belongs to (0: one nobody reads)

  PushChange change_;
  unsigned seen_change_ = 0;
  unsigned change_member_ = 0;

  std::string field_name_;  // the field whose register is open (kFields -> kRegister)
  bool register_in_fields_ = false;
  Register register_;
  unsigned seen_register_ = 0;
  unsigned register_member_ = 0;

  // A VALUE under construction (in register_.v): its open arrays and objects, innermost last, and
  // each open object's pending member name.
  std::vector<json*> value_stack_;
  std::vector<std::string> value_keys_;
};

bool PushEvents::key(json::string_t& k) {
  if (skip_depth_ > 0) return true;
  if (!value_stack_.empty()) {
    value_keys_.back() = std::move(k);
    return true;
  }
  auto claim = [](unsigned* seen, unsigned bit) {
    if (*seen & bit) return false;
    *seen |= bit;
    return true;
  };
  switch (where_) {
    case kTop:
      top_member_ = k == "batch_id"        ? kBatchId
                    : k == "pending_after" ? kPendingAfter
                    : k == "changes"       ? kChanges
                                           : 0u;
      return top_member_ == 0 || claim(&seen_top_, top_member_) || Unsure();
    case kChange: {
      static const std::pair<const char*, unsigned> kMembers[] = {{"change_id", kChangeId},
                                                                  {"id", kId},
                                                                  {"form", kForm},
                                                                  {"form_version", kFormVersion},
                                                                  {"org", kOrg},
                                                                  {"author", kAuthor},
                                                                  {"device", kDevice},
                                                                  {"occurred_at", kOccurredAt},
                                                                  {"deleted", kDeleted},
                                                                  {"fields", kFieldsMember},
                                                                  {"purged", kPurged}};
      change_member_ = 0;
      for (const auto& [name, bit] : kMembers) {
        if (k == name) change_member_ = bit;
      }
      return change_member_ == 0 || claim(&seen_change_, change_member_) || Unsure();
    }
    case kFields:
      field_name_ = std::move(k);
      return true;
    case kRegister:
      register_member_ = k == "v" ? kV : k == "t" ? kT : k == "d" ? kD : k == "b" ? kB : 0u;
      return register_member_ == 0 || claim(&seen_register_, register_member_) || Unsure();
    default:
      return Unsure();
  }
}

void PushEvents::AddToValue(json value) {
  json* top = value_stack_.back();
  if (top->is_array()) {
    top->push_back(std::move(value));
  } else {
    (*top)[value_keys_.back()] = std::move(value);  // a repeated name: the last wins, as parsed
  }
}

bool PushEvents::Scalar(json value) {
  if (skip_depth_ > 0) return true;
  if (!value_stack_.empty()) {
    AddToValue(std::move(value));
    return true;
  }
  switch (where_) {
    case kTop:
      if (top_member_ == kBatchId) {
        if (!value.is_string()) return Unsure();
        out_->batch_id = value.get<std::string>();
        if (out_->batch_id.empty() || out_->batch_id.size() > 200) return Unsure();
      } else if (top_member_ == kPendingAfter) {
        out_->pending_after = value.is_number_integer() ? value.get<std::int64_t>() : 0;
      } else if (top_member_ == kChanges) {
        return Unsure();  // not an array
      }
      return true;
    case kChange:
      return TakeChangeMember(value);
    case kRegister:
      return TakeRegisterMember(value);
    default:  // a change or a field's register that is not an object
      return Unsure();
  }
}

bool PushEvents::TakeChangeMember(json& value) {
  auto text = [&](std::string* dst) {
    if (!value.is_string()) return Unsure();
    *dst = value.get<std::string>();
    return true;
  };
  switch (change_member_) {
    case 0:
      return true;
    case kChangeId:
      return text(&change_.change_id);
    case kId:
      return text(&change_.state.id);
    case kForm:
      return text(&change_.state.form);
    case kOrg:
      return text(&change_.state.org);
    case kAuthor:
      return text(&change_.state.author);
    case kDevice:
      return text(&change_.state.device);
    case kFormVersion:
      if (!value.is_number_integer()) return Unsure();
      change_.state.form_version = RecordState::FormVersionFrom(value.get<std::int64_t>());
      return true;
    case kPurged:
      if (!value.is_boolean()) return Unsure();
      change_.state.purged = value.get<bool>();
      return true;
    default:  // occurred_at, deleted or fields that are not objects
      return Unsure();
  }
}

bool PushEvents::TakeRegisterMember(json& value) {
  switch (register_member_) {
    case 0:
      return true;
    case kV:
      register_.v = std::move(value);
      return true;
    case kT:
      if (!value.is_number_integer()) return Unsure();
      register_.t = value.get<std::int64_t>();
      return true;
    case kD:
      if (!value.is_string()) return Unsure();
      register_.d = value.get<std::string>();
      return true;
    default:  // kB
      if (!value.is_number_integer()) return Unsure();
      register_.b = value.get<std::int64_t>();
      return true;
  }
}

bool PushEvents::Open(bool object) {
  json fresh = object ? json::object() : json::array();
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  if (!value_stack_.empty()) {  // a nested array or object inside a VALUE
    AddToValue(std::move(fresh));
    json* top = value_stack_.back();
    value_stack_.push_back(top->is_array() ? &top->back() : &(*top)[value_keys_.back()]);
    value_keys_.emplace_back();
    return true;
  }
  switch (where_) {
    case kStart:
      if (!object) return Unsure();
      where_ = kTop;
      return true;
    case kTop:
      if (top_member_ != kChanges) {
        if (top_member_ != 0 && top_member_ != kPendingAfter) return Unsure();  // batch_id
        if (top_member_ == kPendingAfter) out_->pending_after = 0;
        skip_depth_ = 1;
        return true;
      }
      if (object) return Unsure();
      where_ = kChangeList;
      return true;
    case kChangeList:
      if (!object) return Unsure();
      if (out_->changes.size() >= tunables::kMaxChangesPerPush) return Unsure();
      change_ = PushChange{};
      seen_change_ = 0;
      where_ = kChange;
      return true;
    case kChange:
      if (change_member_ == 0) {
        skip_depth_ = 1;
        return true;
      }
      if (!object) return Unsure();
      if (change_member_ == kFieldsMember) {
        where_ = kFields;
        return true;
      }
      if (change_member_ != kOccurredAt && change_member_ != kDeleted) return Unsure();
      register_in_fields_ = false;
      break;
    case kFields:
      if (!object) return Unsure();
      register_in_fields_ = true;
      break;
    case kRegister:
      if (register_member_ == 0) {
        skip_depth_ = 1;
        return true;
      }
      if (register_member_ != kV) return Unsure();
      // A VALUE that is an array or object: built event by event.
      register_.v = std::move(fresh);
      value_stack_.push_back(&register_.v);
      value_keys_.emplace_back();
      return true;
  }
  // A register opens.
  register_ = Register{};
  seen_register_ = 0;
  where_ = kRegister;
  return true;
}

bool PushEvents::Close() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  if (!value_stack_.empty()) {
    value_stack_.pop_back();
    value_keys_.pop_back();
    return true;
  }
  switch (where_) {
    case kRegister: {
      if ((seen_register_ & (kV | kT | kD)) != (kV | kT | kD)) return Unsure();
      if (!register_in_fields_) {
        (change_member_ == kOccurredAt ? change_.state.occurred_at : change_.state.deleted) =
            std::move(register_);
        where_ = kChange;
        return true;
      }
      if (!change_.state.fields.emplace(field_name_, std::move(register_)).second) return Unsure();
      where_ = kFields;
      return true;
    }
    case kFields:
      where_ = kChange;
      return true;
    case kChange:
      return EndChange();
    case kChangeList:
      where_ = kTop;
      return true;
    case kTop:
      where_ = kStart;
      done_ = true;
      return true;
    default:
      return Unsure();
  }
}

bool PushEvents::EndChange() {
  where_ = kChangeList;
  if ((seen_change_ & kEnvelope) != kEnvelope) return Unsure();
  // The same checks on values as RecordState::FromJson; a refusal is worded by the tree path.
  if (!RecordState::CheckDecoded(change_.state).ok()) return Unsure();
  if (forms_.Find(change_.state.form, change_.state.form_version) == nullptr) return Unsure();
  out_->changes.push_back(std::move(change_));
  return true;
}

}  // namespace

StreamDecode DecodePushStream(const FormSet& forms, std::string_view text, PushRequest* out) {
  *out = PushRequest{};
  PushEvents events(forms, out);
  bool read = json::sax_parse(text.begin(), text.end(), &events);
  return read && !events.unsure() && events.Finished() ? StreamDecode::kDecoded
                                                       : StreamDecode::kNeedsTree;
}

Status DecodePushTree(const FormSet& forms, std::string_view text, PushRequest* out) {
  *out = PushRequest{};
  json body;
  try {
    body = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // a syntax error, or a number too large (1e999)
    return Status::InvalidArgument(std::string("the push body is not valid JSON: ") + e.what());
  }
  return ParsePushRequest(forms, body, out);
}

Status DecodePushBody(const FormSet& forms, std::string_view text, PushRequest* out) {
  if (DecodePushStream(forms, text, out) == StreamDecode::kDecoded) return Status::OK();
  return DecodePushTree(forms, text, out);
}

}  // namespace beatbook::server
