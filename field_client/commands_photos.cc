// `attach`: a photo for a record's image question, from a file (docs/interfaces.md). The photo is
// checked, its location removed unless the question keeps it, sealed on the device, and uploaded
// by the next sync after its record (docs/protocol.md, section 8).
#include <fstream>
#include <iostream>
#include <sstream>

#include "beatbook/tunables.h"
#include "field_client/cli_support.h"
#include "field_client/commands.h"

namespace field_client {

using beatbook::Status;

namespace {

Status ReadPhotoFile(const std::string& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("cannot read " + path);
  // Read one byte past the limit: a larger file is refused without reading it all.
  bytes->assign(beatbook::tunables::kMaxAttachmentBytes + 1, '\0');
  in.read(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  bytes->resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return Status::IoError("cannot read " + path);
  return Status::OK();
}

}  // namespace

int RunAttach(const std::string& data, const std::string& id, const std::string& field,
              const std::string& file) {
  std::unique_ptr<beatbook::LocalStore> store;
  if (Status s = OpenStore(data, &store); !s.ok()) return Fail(s);
  std::string bytes;
  if (Status s = ReadPhotoFile(file, &bytes); !s.ok()) return Fail(s);
  std::string name;
  if (Status s = store->Attach(id, field, bytes, &name); !s.ok()) {
    return Fail(Status::InvalidArgument(file + ": " + s.message()));
  }
  std::cout << name << "\n";
  return kExitOk;
}

// What `show` says beside a photo: where it is.
std::string PhotoStateText(beatbook::LocalStore* store, const std::string& name) {
  beatbook::AttachmentState state;
  if (!store->GetAttachmentState(name, &state).ok()) return "";
  switch (state) {
    case beatbook::AttachmentState::kUploaded:
      return "uploaded";
    case beatbook::AttachmentState::kWaiting:
      return "not uploaded yet";
    case beatbook::AttachmentState::kElsewhere:
      return "taken on another device";
  }
  return "";
}

}  // namespace field_client
