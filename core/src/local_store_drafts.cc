// LocalStore's drafts: the DraftBox (draft_box.h) does the work.
#include "beatbook/local_store.h"

#include "draft_box.h"

namespace beatbook {

Status LocalStore::SaveDraft(const Draft& draft, std::string* id) {
  return drafts_->Save(draft, clock_->NowMs(), id);
}

Status LocalStore::ListDrafts(std::vector<Draft>* out) { return drafts_->List(out); }

Status LocalStore::GetDraft(const std::string& id, Draft* out) { return drafts_->Get(id, out); }

Status LocalStore::DeleteDraft(const std::string& id) {
  BB_RETURN_IF_ERROR(drafts_->Delete(id));
  return PruneAttachments();  // photos only the draft named
}

}  // namespace beatbook
