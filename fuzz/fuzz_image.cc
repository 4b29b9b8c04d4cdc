// libFuzzer: a photo's bytes as a device attaches it and the server checks it (Exiv2 reading
// JPEG and PNG metadata, and rewriting it without the location). Hostile bytes must be answered
// with a Status, never a crash, a hang or an exception. The seeds are small JPEGs and PNGs, with
// and without GPS metadata.
#include <cstddef>
#include <cstdint>
#include <string>

#include "beatbook/attachment.h"

using namespace beatbook;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ImageInfo info;
  if (!InspectImage(bytes, &info).ok()) return 0;
  PreparedAttachment photo;
  if (PrepareAttachment(bytes, /*keep_location=*/false, &photo).ok()) {
    // What the device keeps, the server takes.
    if (!CheckAttachment(photo.name, photo.bytes, false).ok()) __builtin_trap();
  }
  (void)CheckAttachment(AttachmentName(bytes, info.extension), bytes, true);
  return 0;
}
