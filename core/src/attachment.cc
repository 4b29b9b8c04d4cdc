#include "beatbook/attachment.h"

#include <cstring>
#include <memory>
#include <mutex>

// Exiv2 0.27's headers use std::auto_ptr, which C++17 deprecates.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

#include "beatbook/crypto.h"
#include "beatbook/tunables.h"

namespace beatbook {

namespace {

constexpr unsigned char kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Exiv2's XMP toolkit keeps global state (the namespaces it has seen) that is not safe to change
// from two threads at once: the server checks photos on several. Every use of Exiv2 holds this.
std::mutex& Exiv2Mutex() {
  static std::mutex mu;
  return mu;
}

// Exiv2 writes warnings to stderr by default, and its XMP parser must be set up once before
// threads use it.
void EnsureExiv2() {
  static std::once_flag once;
  std::call_once(once, [] {
    Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);
    Exiv2::XmpParser::initialize();
  });
}

const Exiv2::byte* Bytes(std::string_view s) {
  return reinterpret_cast<const Exiv2::byte*>(s.data());
}

bool StartsWith(std::string_view bytes, const unsigned char* prefix, std::size_t n) {
  return bytes.size() >= n && std::memcmp(bytes.data(), prefix, n) == 0;
}

// A PNG ends with its IEND chunk: length 0, "IEND", and the chunk's fixed CRC.
bool EndsWithPngEnd(std::string_view bytes) {
  static constexpr unsigned char kEnd[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  return bytes.size() >= sizeof(kEnd) &&
         std::memcmp(bytes.data() + bytes.size() - sizeof(kEnd), kEnd, sizeof(kEnd)) == 0;
}

bool IsLocationKey(const std::string& key) {
  // Exif.GPSInfo.* is the GPS block; Exif.Image.GPSTag points at it; XMP copies it as exif:GPS*.
  return key.rfind("Exif.GPSInfo.", 0) == 0 || key == "Exif.Image.GPSTag" ||
         key.rfind("Xmp.exif.GPS", 0) == 0;
}

using ImagePtr = Exiv2::Image::AutoPtr;

// Opens and reads `bytes` with Exiv2, after the checks of InspectImage's first lines.
Status ReadImage(std::string_view bytes, ImagePtr* image, ImageInfo* info) {
  EnsureExiv2();
  if (bytes.empty()) return Status::InvalidArgument("the file is empty");
  if (bytes.size() > tunables::kMaxAttachmentBytes) {
    return Status::InvalidArgument("the photo is " + std::to_string(bytes.size() >> 20) +
                                   " MiB; the largest taken is " +
                                   std::to_string(tunables::kMaxAttachmentBytes >> 20) + " MiB");
  }
  static constexpr unsigned char kJpegStart[] = {0xff, 0xd8, 0xff};
  const bool jpeg = StartsWith(bytes, kJpegStart, sizeof(kJpegStart));
  const bool png = StartsWith(bytes, kPngSignature, sizeof(kPngSignature));
  if (!jpeg && !png) {
    return Status::InvalidArgument(
        "the file is not a JPEG or PNG photo (its bytes say so, "
        "whatever its name)");
  }
  if (png && !EndsWithPngEnd(bytes)) {
    return Status::InvalidArgument("the PNG photo is cut short (it has no end chunk)");
  }
  try {
    const long size = static_cast<long>(bytes.size());
    const int type = Exiv2::ImageFactory::getType(Bytes(bytes), size);
    if (type != (jpeg ? Exiv2::ImageType::jpeg : Exiv2::ImageType::png)) {
      return Status::InvalidArgument("the file is not a readable JPEG or PNG photo");
    }
    ImagePtr opened = Exiv2::ImageFactory::open(Bytes(bytes), size);
    if (!opened.get()) return Status::InvalidArgument("the photo could not be read");
    opened->readMetadata();
    info->extension = jpeg ? "jpg" : "png";
    info->mime = jpeg ? "image/jpeg" : "image/png";
    info->width = opened->pixelWidth();
    info->height = opened->pixelHeight();
    info->has_location = false;
    for (const auto& datum : opened->exifData()) {
      if (IsLocationKey(datum.key())) info->has_location = true;
    }
    for (const auto& datum : opened->xmpData()) {
      if (IsLocationKey(datum.key())) info->has_location = true;
    }
    // XMP that Exiv2 could not decode may still say where the photo was taken: assume it does
    // (StripLocation then drops the packet whole).
    if (!opened->xmpPacket().empty() && opened->xmpData().empty()) info->has_location = true;
    *image = opened;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the photo could not be read: ") + e.what());
  }
  if (info->width <= 0 || info->height <= 0 || info->width > tunables::kMaxImageSide ||
      info->height > tunables::kMaxImageSide) {
    return Status::InvalidArgument("the photo's size (" + std::to_string(info->width) + " by " +
                                   std::to_string(info->height) +
                                   " pixels) is not one a camera makes");
  }
  return Status::OK();
}

}  // namespace

Status InspectImage(std::string_view bytes, ImageInfo* out) {
  std::lock_guard<std::mutex> lock(Exiv2Mutex());
  ImagePtr image;
  return ReadImage(bytes, &image, out);
}

Status StripLocation(const std::string& bytes, std::string* out) {
  std::unique_lock<std::mutex> lock(Exiv2Mutex());
  ImagePtr image;
  ImageInfo info;
  BB_RETURN_IF_ERROR(ReadImage(bytes, &image, &info));
  if (!info.has_location) {
    *out = bytes;
    return Status::OK();
  }
  try {
    Exiv2::ExifData& exif = image->exifData();
    for (auto it = exif.begin(); it != exif.end();) {
      it = IsLocationKey(it->key()) ? exif.erase(it) : std::next(it);
    }
    Exiv2::XmpData& xmp = image->xmpData();
    if (xmp.empty()) {
      image->clearXmpPacket();  // undecodable XMP (see ReadImage): none is kept
    } else {
      for (auto it = xmp.begin(); it != xmp.end();) {
        it = IsLocationKey(it->key()) ? xmp.erase(it) : std::next(it);
      }
    }
    image->writeMetadata();
    Exiv2::BasicIo& io = image->io();
    if (io.open() != 0) return Status::InvalidArgument("the photo could not be rewritten");
    Exiv2::DataBuf buf = io.read(static_cast<long>(io.size()));
    io.close();
    out->assign(reinterpret_cast<const char*>(buf.pData_), static_cast<std::size_t>(buf.size_));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the photo's location could not be removed: ") +
                                   e.what());
  }
  // What was written must read back as an image with no location left.
  image.reset();
  ImageInfo after;
  ImagePtr reread;
  BB_RETURN_IF_ERROR(ReadImage(*out, &reread, &after));
  if (after.has_location) {
    return Status::InvalidArgument("the photo's location could not be removed");
  }
  return Status::OK();
}

Status PrepareAttachment(const std::string& bytes, bool keep_location, PreparedAttachment* out) {
  PreparedAttachment prepared;
  if (keep_location) {
    prepared.bytes = bytes;
  } else {
    BB_RETURN_IF_ERROR(StripLocation(bytes, &prepared.bytes));
  }
  BB_RETURN_IF_ERROR(InspectImage(prepared.bytes, &prepared.info));
  prepared.name = AttachmentName(prepared.bytes, prepared.info.extension);
  *out = std::move(prepared);
  return Status::OK();
}

std::string AttachmentName(const std::string& bytes, const std::string& extension) {
  return Sha256Hex(bytes) + "." + extension;
}

bool IsAttachmentName(std::string_view name) {
  if (name.size() != 68) return false;
  for (std::size_t i = 0; i < 64; ++i) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  std::string_view ext = name.substr(64);
  return ext == ".jpg" || ext == ".png";
}

std::string AttachmentMime(std::string_view name) {
  if (!IsAttachmentName(name)) return "";
  return name.substr(64) == ".jpg" ? "image/jpeg" : "image/png";
}

Status CheckAttachment(const std::string& name, const std::string& bytes, bool keep_location) {
  if (!IsAttachmentName(name)) {
    return Status::InvalidArgument("'" + name.substr(0, 80) + "' is not an attachment name");
  }
  if (Sha256Hex(bytes) != name.substr(0, 64)) {
    return Status::InvalidArgument(
        "the bytes received do not hash to the photo's name (they "
        "were changed on the way or on the device)");
  }
  ImageInfo info;
  BB_RETURN_IF_ERROR(InspectImage(bytes, &info));
  if ("." + info.extension != name.substr(64)) {
    return Status::InvalidArgument("the photo's bytes are a " + info.mime +
                                   ", not what its name '" + name.substr(64) + "' says");
  }
  if (info.has_location && !keep_location) {
    return Status::InvalidArgument(
        "the photo still carries its location (GPS) metadata, which "
        "this question does not keep");
  }
  return Status::OK();
}

}  // namespace beatbook
