#include "sync_server/api/push.h"

#include "beatbook/datetime.h"
#include "beatbook/fault.h"
#include "beatbook/hlc.h"
#include "beatbook/indicators.h"
#include "beatbook/json_text.h"
#include "beatbook/permissions.h"
#include "beatbook/return_checks.h"
#include "beatbook/tunables.h"
#include "beatbook/validation.h"

namespace beatbook::server {

using nlohmann::json;

Status ParsePushRequest(const FormSet& forms, const json& body, PushRequest* out) {
  if (!body.is_object()) return Status::InvalidArgument("the push body must be a JSON object");
  auto bid = body.find("batch_id");
  if (bid == body.end() || !bid->is_string() || bid->get<std::string>().empty() ||
      bid->get<std::string>().size() > 200) {
    return Status::InvalidArgument("\"batch_id\" must be a non-empty string of at most 200 chars");
  }
  out->batch_id = bid->get<std::string>();
  auto pa = body.find("pending_after");
  out->pending_after = pa != body.end() && pa->is_number_integer() ? pa->get<std::int64_t>() : 0;
  auto list = body.find("changes");
  if (list == body.end() || !list->is_array()) {
    return Status::InvalidArgument("\"changes\" must be an array");
  }
  if (list->size() > tunables::kMaxChangesPerPush) {
    return Status::InvalidArgument("a push may hold at most " +
                                   std::to_string(tunables::kMaxChangesPerPush) + " changes");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& cj = (*list)[i];
    std::string where = "change " + std::to_string(i + 1);
    PushChange pc;
    if (!cj.is_object() || !cj.contains("change_id") || !cj["change_id"].is_string()) {
      return Status::InvalidArgument(where + ": \"change_id\" must be a string");
    }
    pc.change_id = cj["change_id"].get<std::string>();
    Status s = RecordState::FromJson(cj, &pc.state);
    if (!s.ok()) return Status::InvalidArgument(where + ": " + s.message());
    if (forms.Find(pc.state.form, pc.state.form_version) == nullptr) {
      return Status::InvalidArgument(
          where + " (record " + pc.state.id + "): form '" + pc.state.form + "' version " +
          std::to_string(pc.state.form_version) + " is not known to this server");
    }
    out->changes.push_back(std::move(pc));
  }
  return Status::OK();
}

namespace {

// Whether every register `change` carries was written by `dev`, with a stamp the server can trust:
// positive and not further ahead of its clock than kMaxClockAheadMs (docs/protocol.md, section 2).
// Returns a reason, or "".
std::string CheckStamps(const DeviceInfo& dev, const RecordState& change, std::int64_t now_ms) {
  HlcStamp horizon = HybridClock::HorizonAt(now_ms);
  std::string why;
  auto check = [&](const Register& r) {
    if (!why.empty()) return;
    if (r.d != dev.id) {
      why = "the change carries writes stamped by another device";
    } else if (r.t > horizon) {
      std::int64_t ahead_h = (HybridClock::PhysicalMs(r.t) - now_ms) / 3'600'000;
      why = "a write is stamped " + std::to_string(ahead_h) +
            " hours ahead of the server's clock, more than the " +
            std::to_string(tunables::kMaxClockAheadMs / 3'600'000) +
            " allowed: the device's clock is wrong";
    }
  };
  if (change.occurred_at) check(*change.occurred_at);
  if (change.deleted) check(*change.deleted);
  for (const auto& [name, r] : change.fields) check(r);
  return why;
}

// Whether `change`, a partner return, may take its id over from `stored`: a record of another
// form that took the return's natural-key id before such ids were refused to other forms
// (docs/protocol.md, section 4). The return replaces it; the audit log keeps what it was.
bool TakesOverBlocker(const FormSet& forms, const RecordState& stored, const RecordState& change) {
  return stored.form != change.form && !CheckRecordId(forms, stored).empty() &&
         NaturalKeyId(forms, change.form, change.FieldValues(), change.org) == change.id;
}

// Who may write what (docs/protocol.md, section 4). Returns a reason, or "" if allowed.
std::string CheckPermission(const FormSet& forms, const DeviceInfo& dev, const RecordState& change,
                            const RecordState* stored, std::int64_t now_ms) {
  if (!RoleWritesRecords(dev.role)) return RoleInWords(dev.role) + " does not write records";
  if (std::string why = CheckStamps(dev, change, now_ms); !why.empty()) return why;
  if (change.purged) return "only the server's retention purge removes records";
  if (stored != nullptr && stored->purged) {
    return "the record was removed under the retention policy; the change is not kept";
  }
  if (stored == nullptr) {
    // A partner return may be filed under another org than the device's: the partnership's for a
    // figure it shares, an owner's when the coordinator enters it on their behalf (checked in
    // full by WhyMayNotWrite once merged).
    json fields = change.FieldValues();
    if (change.org != dev.org && change.org != FilingOrg(forms, change.form, fields, dev.org) &&
        !(dev.role == Role::kCoordinator && NaturalKeyId(forms, change.form, fields, change.org))) {
      return "the record claims org '" + change.org + "' but this device belongs to '" + dev.org +
             "'";
    }
    if (change.author != dev.user) {
      return "the record claims author '" + change.author + "' but this device's user is '" +
             dev.user + "'";
    }
    if (change.device != dev.id) return "the record claims to come from another device";
    if (!change.occurred_at) return "a new record must carry occurred_at";
  } else {
    if (stored->form != change.form || stored->form_version != change.form_version ||
        stored->org != change.org) {
      return "the change's envelope (form, version, org) differs from the stored record";
    }
    if (stored->author != change.author || stored->device != change.device) {
      // Only a natural-key record (a partner return) may be created again on another device, and
      // then only as this device's own.
      bool natural =
          NaturalKeyId(forms, change.form, stored->FieldValues(), change.org).has_value();
      if (!natural || change.author != dev.user || change.device != dev.id) {
        return "the change claims another author or device than the stored record";
      }
    }
    // A delete is final: a "deleted": false written after the delete is refused. (The merge
    // keeps "deleted": true anyway; a creation sent again, and edits racing the delete, merge as
    // usual and the record stays deleted.)
    if (stored->IsDeleted() && stored->deleted && change.deleted && change.deleted->v != true &&
        change.deleted->After(*stored->deleted)) {
      return "record " + stored->id + " was deleted, and a delete is final";
    }
    if (std::string why = WhyMayNotChange(forms, dev.role, dev.user, dev.org, *stored);
        !why.empty()) {
      return why;
    }
  }
  if (change.deleted && change.deleted->v != true && change.deleted->v != false) {
    return "\"deleted\" must be true or false";
  }
  return "";
}

// Validates the merged record against its form version, deleted or not: a delete carries
// registers like any change, and every one of them reaches the store and every device of the
// org. Then who may write it (form writers, org limits on choices, return owners) for a record
// that is not deleted, and a return's period. `values` are the merged record's field values.
// Returns a reason, or "". Reads no other record (CheckFigureConfirmed does).
std::string WhyInvalid(const FormSet& forms, const DeviceInfo& dev, const RecordState& change,
                       const RecordState& merged, bool existed, const json& values,
                       std::int64_t now_ms) {
  const FormDef* form = forms.Find(merged.form, merged.form_version);
  std::int64_t occurred_ms = 0;
  Status s = ParseIsoDateTime(merged.OccurredAt(), &occurred_ms);
  if (!s.ok()) return "occurred_at: " + s.message();
  // Nothing may be dated before the plan's first year; records stored before that rule existed
  // can still be corrected and deleted, as long as the change does not set their date.
  Status when = change.occurred_at
                    ? CheckOccurredAt(occurred_ms, now_ms, forms.returns().first_fy())
                    : CheckOccurredAt(occurred_ms, now_ms);
  if (!when.ok()) return when.message();
  auto errors = ValidateFields(*form, values, occurred_ms);
  if (!errors.empty()) return JoinErrors(errors);
  // Who may write it first (the form's writers, choice limits, return owners): a record the
  // device had no business writing is refused for that, whatever else is wrong with it. A delete
  // of a stored record is not held to today's rules of who may log it (a record stored before a
  // rule existed can still be deleted); a new record is, deleted or not, or a record created
  // deleted could take a return's id and keep it for ever.
  if (!(existed && merged.IsDeleted())) {
    std::string why = WhyMayNotWrite(forms, dev.role, dev.org, merged.form, merged.form_version,
                                     merged.org, values);
    if (!why.empty()) return why;
  }
  std::string why = CheckRecordId(forms, merged);
  if (!why.empty() || merged.IsDeleted()) return why;
  return WhyReturnPeriodRefused(forms, merged.form, merged.form_version, values, now_ms);
}

// Whether checking `change` reads other records: a partner return's figure, compared with the
// figures of its earlier quarters.
bool ChecksAgainstEarlierFigures(const RecordState& change) {
  return change.fields.count("value") || change.fields.count("unusual_confirmed");
}

// A return's figure far from its earlier quarters' must be confirmed as unusual (a reason in
// *why, or ""). `values` are the merged record's field values.
Status CheckFigureConfirmed(WriteTxn& txn, const FormSet& forms, const RecordState& merged,
                            json values, std::string* why) {
  Status read = Status::OK();
  auto figure_of = [&](const std::string& id, double* value) {
    RecordState earlier;
    bool found = false;
    if (Status r = txn.ReadRecord(id, &earlier, &found); !r.ok()) {
      read = r;
      return false;
    }
    if (!found || earlier.IsDeleted()) return false;
    json v = earlier.FieldValues().value("value", json());
    if (!v.is_number()) return false;
    *value = v.get<double>();
    return true;
  };
  // A confirmation stands for the figure it was given with: one written before the figure's
  // latest change does not confirm it.
  auto confirmed = merged.fields.find("unusual_confirmed");
  auto figure = merged.fields.find("value");
  if (confirmed != merged.fields.end() && figure != merged.fields.end() &&
      confirmed->second.t < figure->second.t) {
    values.erase("unusual_confirmed");
  }
  *why = WhyReturnNeedsConfirming(forms, merged.form, merged.form_version, merged.org, values,
                                  figure_of);
  return read;
}

// The owner a return was entered for by a device whose org does not own it (the coordinator on
// an owner's behalf), or "".
std::string OnBehalfOf(const FormSet& forms, const DeviceInfo& dev, const RecordState& merged) {
  const FormDef* def = forms.Find(merged.form, merged.form_version);
  if (def == nullptr || def->writers.owners_of.empty()) return "";
  json values = merged.FieldValues();
  auto ind = values.find(def->writers.owners_of);
  const ReturnRule* rule = ind != values.end() && ind->is_string()
                               ? forms.returns().Find(ind->get<std::string>())
                               : nullptr;
  if (rule == nullptr || rule->owners.count(dev.org)) return "";
  if (std::string entered_for = EnteredFor(values); !entered_for.empty()) return entered_for;
  return merged.org != dev.org ? merged.org : "the owners";
}

}  // namespace

namespace {

// What one batch did, for its answer and its audit entries.
struct BatchOutcome {
  json results = json::array();
  std::int64_t applied = 0, rejected = 0, conflicts = 0;
  json changed = json::array();                     // records this batch changed
  json corrected = json::array();                   // ... of them, records someone else had entered
  json on_behalf = json::array();                   // ... returns entered on an owner's behalf
  std::map<std::string, std::int64_t> rejected_by;  // PushCounts::rejected
};

// What one change does to its record: refused (and why), or merged, with what the merged record
// then stores. Everything here but the stored record it starts from is worked out without the
// store, so for a record the store does not hold yet (the usual case: a record is pushed once,
// and edited now and then) it is worked out before the write lock is taken, by several pushes at
// once, and the single writer only stores it (docs/performance.md, "The 500-device burst").
struct ChangeOutcome {
  bool decided = false;  // false: it must be worked out in the transaction (it reads the store)
  std::string reason;    // why it is refused, or ""
  const char* kind = "permission";
  RecordState merged;
  MergeResult merge;
  // When the merge changed the record: its text, what it counts, whose behalf it was entered on.
  std::string text;
  std::vector<Contribution> contributions;
  std::string on_behalf_of;
  bool raises_concern = false;
};

// Decides `change` against `stored` (nullptr: the store does not hold the record). Without a
// transaction (`txn` nullptr), a change whose check reads other records is left undecided.
Status Decide(WriteTxn* txn, const FormSet& forms, const Catalogue& catalogue,
              const DeviceInfo& device, const RecordState& change, const RecordState* stored,
              std::int64_t now_ms, ChangeOutcome* out) {
  *out = ChangeOutcome{};
  out->reason = CheckPermission(forms, device, change, stored, now_ms);
  if (stored != nullptr) out->merged = *stored;
  if (out->reason.empty()) {
    out->kind = "invalid";
    out->merge = Merge(&out->merged, change);
    json values = out->merged.FieldValues();
    out->reason = WhyInvalid(forms, device, change, out->merged, stored != nullptr, values, now_ms);
    if (out->reason.empty() && !out->merged.IsDeleted() && ChecksAgainstEarlierFigures(change)) {
      if (txn == nullptr) return Status::OK();
      BB_RETURN_IF_ERROR(
          CheckFigureConfirmed(*txn, forms, out->merged, std::move(values), &out->reason));
    }
  }
  out->decided = true;
  if (!out->reason.empty()) return Status::OK();
  const RecordState& merged = out->merged;
  if (out->merge.changed) {
    out->text = merged.ToText();
    out->contributions = ContributionsOf(catalogue, merged);
    out->on_behalf_of = OnBehalfOf(forms, device, merged);
  }
  // A Yes to a safeguarding question is followed up, not only counted (docs/safeguarding.md):
  // also when it lost the merge to a later No (the worker raised it all the same).
  auto raises = [&forms](const RecordState& s) {
    const FormDef* def = forms.Find(s.form, s.form_version);
    return def != nullptr && def->RaisesSafeguardingConcern(s);
  };
  out->raises_concern = !merged.purged && (raises(merged) || raises(change));
  return Status::OK();
}

// Checks, merges and stores one change of a batch inside its transaction (docs/protocol.md,
// sections 4 and 5); a refused change is recorded as a rejection with its reason. `as_new` is
// the change decided beforehand as if the store did not hold its record.
Status ApplyChange(WriteTxn& txn, const FormSet& forms, const Catalogue& catalogue,
                   const DeviceInfo& device, const PushChange& pc, const ChangeOutcome& as_new,
                   std::int64_t now_ms, BatchOutcome* out) {
  RecordState stored;
  bool found = false;
  BB_RETURN_IF_ERROR(txn.LoadRecord(pc.state.id, &stored, &found));
  if (found && TakesOverBlocker(forms, stored, pc.state)) {
    // Stored before ids were checked: the record that took this return's id gives it up.
    BB_RETURN_IF_ERROR(txn.Audit({0,
                                  now_ms,
                                  device.user,
                                  RoleName(device.role),
                                  device.org,
                                  device.id,
                                  "unblock",
                                  {{"record", stored.id},
                                   {"form", stored.form},
                                   {"org", stored.org},
                                   {"author", stored.author},
                                   {"device", stored.device}}}));
    stored = RecordState{};
    found = false;
  }
  ChangeOutcome decided_here;
  const ChangeOutcome* o = &as_new;
  if (found || !as_new.decided) {
    BB_RETURN_IF_ERROR(Decide(&txn, forms, catalogue, device, pc.state, found ? &stored : nullptr,
                              now_ms, &decided_here));
    o = &decided_here;
  }
  if (!o->reason.empty()) {
    ++out->rejected;
    ++out->rejected_by[o->kind];
    out->results.push_back(
        {{"change_id", pc.change_id}, {"status", "rejected"}, {"reason", o->reason}});
    return txn.AddRejection({device.id, pc.change_id, pc.state.id, o->reason, now_ms});
  }
  const RecordState& merged = o->merged;
  if (o->merge.changed) {
    out->changed.push_back(merged.id);
    if (found && stored.author != device.user) out->corrected.push_back(merged.id);
    if (!o->on_behalf_of.empty()) {
      out->on_behalf.push_back({{"record", merged.id}, {"for", o->on_behalf_of}});
    }
    BB_RETURN_IF_ERROR(txn.SaveRecord(merged, o->text));
    BB_RETURN_IF_ERROR(
        txn.SetContributions(merged.id, o->contributions, merged.MaxStamp(), now_ms));
    // The photos it names now: retention keeps a stored photo while any record names it.
    const FormDef* def = forms.Find(merged.form, merged.form_version);
    if (def != nullptr && def->HasImageField()) {
      BB_RETURN_IF_ERROR(txn.SetPhotoRefs(merged.id, def->PhotosIn(merged.FieldValues()), now_ms));
    }
  }
  if (o->raises_concern) BB_RETURN_IF_ERROR(txn.RaiseConcern(merged.id, merged.org, now_ms));
  for (const auto& c : o->merge.conflicts) BB_RETURN_IF_ERROR(txn.AddConflict(c, now_ms));
  out->conflicts += static_cast<std::int64_t>(o->merge.conflicts.size());
  ++out->applied;
  out->results.push_back({{"change_id", pc.change_id}, {"status", "applied"}});
  return Status::OK();
}

}  // namespace

Status ApplyPush(CentralStore* store, const FormSet& forms, const Catalogue& catalogue,
                 const DeviceInfo& device, const json& body, std::int64_t now_ms, json* response,
                 PushCounts* counts) {
  PushRequest request;
  BB_RETURN_IF_ERROR(ParsePushRequest(forms, body, &request));
  return ApplyPush(store, forms, catalogue, device, request, now_ms, response, counts);
}

Status ApplyPush(CentralStore* store, const FormSet& forms, const Catalogue& catalogue,
                 const DeviceInfo& device, const PushRequest& request, std::int64_t now_ms,
                 json* response, PushCounts* counts) {
  const std::string& batch_id = request.batch_id;

  bool seen = false;
  std::string stored_response;
  BB_RETURN_IF_ERROR(store->FindBatch(device.id, batch_id, &stored_response, &seen));
  if (seen) {
    // A retried batch: its first answer, unchanged; nothing is applied again.
    *response = json::parse(stored_response, nullptr, /*allow_exceptions=*/false);
    if (response->is_discarded()) return Status::Corruption("a stored batch answer is unreadable");
    if (counts) counts->replayed = true;
    return Status::OK();
  }

  // Each change decided as if its record were new, before the write lock (ChangeOutcome).
  std::vector<ChangeOutcome> as_new(request.changes.size());
  for (std::size_t i = 0; i < request.changes.size(); ++i) {
    BB_RETURN_IF_ERROR(Decide(nullptr, forms, catalogue, device, request.changes[i].state, nullptr,
                              now_ms, &as_new[i]));
  }

  return store->Write([&](WriteTxn& txn) {
    // Every record the batch touches, locked first and in id order: another server's push of
    // some of the same records, in another order, waits instead of deadlocking.
    std::vector<std::string> ids;
    ids.reserve(request.changes.size());
    for (const auto& pc : request.changes) ids.push_back(pc.state.id);
    BB_RETURN_IF_ERROR(txn.LockRecords(std::move(ids)));
    BatchOutcome out;
    for (std::size_t i = 0; i < request.changes.size(); ++i) {
      BB_RETURN_IF_ERROR(
          ApplyChange(txn, forms, catalogue, device, request.changes[i], as_new[i], now_ms, &out));
    }
    *response = {{"results", out.results},
                 {"applied", out.applied},
                 {"rejected", out.rejected},
                 {"conflicts", out.conflicts}};
    BB_RETURN_IF_ERROR(txn.SaveBatch(device.id, batch_id, JsonText(*response), now_ms));
    BB_RETURN_IF_ERROR(txn.NoteSync(device.id, now_ms, request.pending_after));
    AuditEvent event{0,
                     now_ms,
                     device.user,
                     RoleName(device.role),
                     device.org,
                     device.id,
                     "push",
                     {{"batch_id", batch_id},
                      {"applied", out.applied},
                      {"rejected", out.rejected},
                      {"conflicts", out.conflicts},
                      {"records", out.changed}}};
    if (!out.on_behalf.empty()) event.detail["on_behalf"] = out.on_behalf;
    BB_RETURN_IF_ERROR(txn.Audit(event));
    if (!out.corrected.empty()) {
      event.action = "correct";
      event.detail = {{"records", out.corrected}};
      BB_RETURN_IF_ERROR(txn.Audit(event));
    }
    BB_FAULT_POINT("server.push.before_commit");
    if (counts) {  // told only of a batch that commits (a retried transaction starts again)
      counts->applied = out.applied;
      counts->rejected = out.rejected_by;
    }
    return Status::OK();
  });
}

}  // namespace beatbook::server
