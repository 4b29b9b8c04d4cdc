// AttachmentBox: the photos a device holds (docs/protocol.md, section 8), sealed like records
// under the context "attachment:NAME", with a flag for the server's confirmation. LocalStore
// holds one; which photos records and drafts still name is LocalStore's to work out (it reads
// them), so Prune takes the names to keep.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "beatbook/attachment.h"
#include "beatbook/status.h"
#include "store_file.h"

namespace beatbook {

class AttachmentBox {
 public:
  explicit AttachmentBox(StoreFile* file) : file_(file) {}

  // Stores `photo` at `now_ms`; a photo with the same name (the same bytes) is kept as it is.
  Status Add(const PreparedAttachment& photo, std::int64_t now_ms);
  // The photo's bytes. NotFound if this device does not hold it; Corruption if it is damaged:
  // its sealed row does not open, or its bytes no longer hash to its name.
  Status Read(const std::string& name, std::string* bytes);
  // Whether this device holds `name`, and whether the server has confirmed it.
  Status Find(const std::string& name, bool* held, bool* uploaded);
  Status MarkUploaded(const std::string& name);
  // Every photo held, by name.
  Status Names(std::vector<std::string>* out);
  // Deletes every photo not in `keep`; *removed says how many went.
  Status Prune(const std::set<std::string>& keep, std::int64_t* removed);
  bool Empty();

 private:
  StoreFile* file_;
};

}  // namespace beatbook
