// Photos for tests: a small camera-like JPEG, PNGs of any size (random pixels, so they do not
// compress and a large one really takes several upload chunks), and either with a GPS location
// written into its metadata, as a phone camera does.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <zlib.h>

// Exiv2 0.27's headers use std::auto_ptr, which C++17 deprecates.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <exiv2/exiv2.hpp>
#pragma GCC diagnostic pop

namespace beatbook::test {

// A 32 by 24 pixel baseline JPEG (made with cjpeg from a gradient).
inline std::string TestJpeg() {
  static const char* kHex =
      "ffd8ffe000104a46494600010100000100010000ffdb0043000a07070807060a0808080b0a0a0b0e18100e0d0d0e"
      "1d15"
      "161118231f2524221f2221262b372f26293429212230413134393b3e3e3e252e4449433c48373d3e3bffdb004301"
      "0a0b"
      "0b0e0d0e1c10101c3b2822283b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b"
      "3b3b"
      "3b3b3b3b3b3b3b3b3b3b3b3b3b3bffc00011080018002003012200021101031101ffc4001f000001050101010101"
      "0100"
      "000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300041105"
      "1221"
      "31410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738"
      "393a"
      "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a929394959697"
      "9899"
      "9aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9"
      "eaf1"
      "f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b5"
      "1100"
      "020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352"
      "f015"
      "6272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a6364656667"
      "6869"
      "6a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2"
      "c3c4"
      "c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f"
      "00f3"
      "b86c3dab421b0f6ad686c3daafc361ed5ebd4c59cd82c76da9930d87b55f86c3dab5e1b0f6abf0d87b579d53167d"
      "9e0b"
      "1db6a5786c3daafc361ed4515e654a923f1ec1569e85f86c3daafc361ed4515e755a923ecf055a7a1fffd9";
  std::string bytes;
  for (const char* p = kHex; p[0] && p[1]; p += 2) {
    bytes += static_cast<char>(std::stoi(std::string(p, 2), nullptr, 16));
  }
  return bytes;
}

// A width by height RGB PNG of random pixels drawn from `seed`, stored without compression.
inline std::string TestPng(int width, int height, std::uint32_t seed = 1) {
  auto u32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    std::string body = type + data;
    uLong crc =
        crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    return u32(static_cast<std::uint32_t>(data.size())) + body +
           u32(static_cast<std::uint32_t>(crc));
  };
  std::mt19937 rng(seed);
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw += '\0';  // no filter
    for (int x = 0; x < width * 3; ++x) raw += static_cast<char>(rng() & 0xff);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
            reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 0);
  packed.resize(size);
  std::string ihdr =
      u32(static_cast<std::uint32_t>(width)) + u32(static_cast<std::uint32_t>(height));
  ihdr += std::string{8, 2, 0, 0, 0};  // 8-bit RGB
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", packed) +
         chunk("IEND", "");
}

// `image` with where it was taken (Winchester's Buttercross) in its EXIF GPS block and XMP, and
// an orientation tag that must survive the GPS being removed.
inline std::string WithGps(const std::string& image) {
  Exiv2::LogMsg::setLevel(Exiv2::LogMsg::mute);
  auto opened = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(image.data()),
                                          static_cast<long>(image.size()));
  opened->readMetadata();
  opened->exifData()["Exif.GPSInfo.GPSLatitudeRef"] = "N";
  opened->exifData()["Exif.GPSInfo.GPSLatitude"] = "51/1 3/1 4200/100";
  opened->exifData()["Exif.GPSInfo.GPSLongitudeRef"] = "W";
  opened->exifData()["Exif.GPSInfo.GPSLongitude"] = "1/1 18/1 5000/100";
  opened->exifData()["Exif.Image.Orientation"] = std::uint16_t(6);
  opened->xmpData()["Xmp.exif.GPSLatitude"] = "51,3.7N";
  opened->writeMetadata();
  Exiv2::BasicIo& io = opened->io();
  io.open();
  Exiv2::DataBuf buf = io.read(static_cast<long>(io.size()));
  io.close();
  return std::string(reinterpret_cast<const char*>(buf.pData_),
                     static_cast<std::size_t>(buf.size_));
}

// The EXIF orientation of `image` (0 if none): to check other metadata stays.
inline int Orientation(const std::string& image) {
  auto opened = Exiv2::ImageFactory::open(reinterpret_cast<const Exiv2::byte*>(image.data()),
                                          static_cast<long>(image.size()));
  opened->readMetadata();
  auto it = opened->exifData().findKey(Exiv2::ExifKey("Exif.Image.Orientation"));
  return it == opened->exifData().end() ? 0 : static_cast<int>(it->toLong());
}

}  // namespace beatbook::test
