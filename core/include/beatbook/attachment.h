// Attachments: photos an `image` question holds, named by their content (docs/protocol.md,
// section 8).
//
//   PreparedAttachment photo;
//   Status s = PrepareAttachment(file_bytes, /*keep_location=*/false, &photo);
//   // photo.name is "<sha256 hex>.jpg"; photo.bytes has no GPS metadata left.
//
// The device prepares a photo once, when it is attached; the server checks the bytes it receives
// against the name with CheckAttachment. Both decide the type by the bytes (JPEG or PNG), never
// by a file name, and both keep to tunables::kMaxAttachmentBytes.
#pragma once

#include <string>
#include <string_view>

#include "beatbook/status.h"

namespace beatbook {

// What the bytes of an image are.
struct ImageInfo {
  std::string extension;  // "jpg" or "png"
  std::string mime;       // "image/jpeg" or "image/png"
  int width = 0;
  int height = 0;
  bool has_location = false;  // EXIF GPS or XMP exif:GPS* metadata
};

// Reads `bytes` as a JPEG or PNG. InvalidArgument, in words a worker can act on, for anything
// else: empty, too large, another type, or an image cut short.
Status InspectImage(std::string_view bytes, ImageInfo* out);

// `bytes` without their location metadata (EXIF GPS, XMP exif:GPS*); the picture and other
// metadata are unchanged. InvalidArgument if they are not an image InspectImage takes.
Status StripLocation(const std::string& bytes, std::string* out);

struct PreparedAttachment {
  std::string name;  // AttachmentName of `bytes`
  std::string bytes;
  ImageInfo info;
};

// A photo as it will be stored and sent: checked, its location taken out unless `keep_location`,
// and named.
Status PrepareAttachment(const std::string& bytes, bool keep_location, PreparedAttachment* out);

// "<lowercase hex SHA-256 of bytes>.<extension>".
std::string AttachmentName(const std::string& bytes, const std::string& extension);

// Whether `name` is shaped like an AttachmentName (64 lowercase hex digits, ".jpg" or ".png").
bool IsAttachmentName(std::string_view name);

// The MIME type an attachment name's extension stands for ("" for a name that is not one).
std::string AttachmentMime(std::string_view name);

// The server's check of bytes received for `name`: the hash must be the name's, the bytes an
// image of the name's type, and without location metadata unless `keep_location`. InvalidArgument
// naming the check that failed.
Status CheckAttachment(const std::string& name, const std::string& bytes, bool keep_location);

}  // namespace beatbook
