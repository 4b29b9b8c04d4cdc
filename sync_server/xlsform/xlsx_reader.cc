// Reading an .xlsx workbook's cell text (workbook.h). The file is a zip (libzip) of XML parts
// (expat): xl/workbook.xml names the sheets and their relationship ids, xl/_rels/workbook.xml.rels
// maps those to the worksheet parts, xl/sharedStrings.xml holds the text most cells point to, and
// each worksheet lists its rows and cells. Element names are compared without their namespace
// prefix, as writers differ in the prefixes they use.
#include <expat.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>

#include "beatbook/tunables.h"
#include "sync_server/xlsform/workbook.h"

namespace beatbook::server::xlsform {

namespace {

using Attributes = std::map<std::string, std::string>;

// "x:row" -> "row".
std::string LocalName(const char* name) {
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}

// One XML part, parsed with callbacks for element starts and ends and the text inside.
struct XmlHandlers {
  std::function<void(const std::string& name, const Attributes& attributes)> start;
  std::function<void(const std::string& name)> end;
  std::function<void(const char* text, int length)> text;
  XML_Parser parser = nullptr;
  bool doctype = false;  // set when the part declares a DTD, which stops the parse
};

Status ParseXml(const std::string& part, const std::string& xml, XmlHandlers* handlers) {
  std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"),
                                                                      &XML_ParserFree);
  if (!parser) return Status::IoError("cannot make an XML parser (out of memory)");
  handlers->parser = parser.get();
  XML_SetUserData(parser.get(), handlers);
  // Office parts never declare a DTD; one that does may define entities that expand a few
  // kilobytes into gigabytes. Stop at the declaration.
  XML_SetStartDoctypeDeclHandler(
      parser.get(), [](void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
        auto* h = static_cast<XmlHandlers*>(data);
        h->doctype = true;
        XML_StopParser(h->parser, XML_FALSE);
      });
  XML_SetElementHandler(
      parser.get(),
      [](void* data, const XML_Char* name, const XML_Char** attrs) {
        auto* h = static_cast<XmlHandlers*>(data);
        if (!h->start) return;
        Attributes attributes;
        for (int i = 0; attrs[i] != nullptr; i += 2) attributes[attrs[i]] = attrs[i + 1];
        h->start(LocalName(name), attributes);
      },
      [](void* data, const XML_Char* name) {
        auto* h = static_cast<XmlHandlers*>(data);
        if (h->end) h->end(LocalName(name));
      });
  XML_SetCharacterDataHandler(parser.get(), [](void* data, const XML_Char* text, int length) {
    auto* h = static_cast<XmlHandlers*>(data);
    if (h->text) h->text(text, length);
  });
  XML_Status parsed = XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), 1);
  if (handlers->doctype) {
    return Status::InvalidArgument(part + " declares a DTD, which no workbook part has: refused");
  }
  if (parsed == XML_STATUS_ERROR) {
    return Status::InvalidArgument(part + " is not well-formed XML (line " +
                                   std::to_string(XML_GetCurrentLineNumber(parser.get())) +
                                   "): " + XML_ErrorString(XML_GetErrorCode(parser.get())));
  }
  return Status::OK();
}

// The zip in memory: an .xlsx is read whole (it is at most kMaxXlsxFileBytes), which lets a
// fuzzer hand it bytes without a file.
class ZipFile {
 public:
  ~ZipFile() {
    if (zip_ != nullptr) zip_discard(zip_);
  }
  Status Open(std::string bytes, const std::string& name) {
    bytes_ = std::move(bytes);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes_.data(), bytes_.size(), 0, &error);
    if (source != nullptr) zip_ = zip_open_from_source(source, ZIP_RDONLY, &error);
    if (zip_ == nullptr) {
      std::string why = zip_error_strerror(&error);
      zip_error_fini(&error);
      if (source != nullptr) zip_source_free(source);
      return Status::InvalidArgument(name + " is not an .xlsx workbook (" + why + ")");
    }
    zip_error_fini(&error);
    return Status::OK();
  }
  bool Has(const std::string& name) const { return zip_name_locate(zip_, name.c_str(), 0) >= 0; }
  // The part `name` unpacked, refused past kMaxXlsxPartBytes whatever its header claims.
  Status Read(const std::string& name, std::string* out) const {
    zip_int64_t index = zip_name_locate(zip_, name.c_str(), 0);
    if (index < 0) return Status::InvalidArgument("the workbook has no part " + name);
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
        zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0), &zip_fclose);
    if (!file) return Status::InvalidArgument("cannot unpack " + name + ": " + zip_strerror(zip_));
    out->clear();
    char buffer[1 << 16];
    for (;;) {
      zip_int64_t n = zip_fread(file.get(), buffer, sizeof buffer);
      if (n < 0) return Status::InvalidArgument("cannot unpack " + name + " (damaged)");
      if (n == 0) break;
      out->append(buffer, static_cast<std::size_t>(n));
      if (out->size() > tunables::kMaxXlsxPartBytes) {
        return Status::InvalidArgument(name + " unpacks to more than " +
                                       std::to_string(tunables::kMaxXlsxPartBytes >> 20) +
                                       " MiB: not a form");
      }
    }
    return Status::OK();
  }

 private:
  std::string bytes_;
  zip_t* zip_ = nullptr;
};

// "B12" -> column 1 (from 0); -1 if it does not start with letters.
long ColumnOf(const std::string& reference) {
  long column = 0;
  std::size_t i = 0;
  while (i < reference.size() && std::isupper(static_cast<unsigned char>(reference[i]))) {
    column = column * 26 + (reference[i] - 'A' + 1);
    if (column > 1'000'000) return -1;
    ++i;
  }
  return i == 0 ? -1 : column - 1;
}

Status ReadSharedStrings(const ZipFile& zip, std::vector<std::string>* strings) {
  if (!zip.Has("xl/sharedStrings.xml")) return Status::OK();  // no text cells, or inline ones
  std::string xml;
  BB_RETURN_IF_ERROR(zip.Read("xl/sharedStrings.xml", &xml));
  // An item's text is its <t>, or the <t> of each of its runs (<r>); phonetic hints (<rPh>) are
  // not part of it.
  bool in_text = false;
  int phonetic = 0;
  XmlHandlers h;
  h.start = [&](const std::string& name, const Attributes&) {
    if (name == "si") strings->emplace_back();
    if (name == "rPh") ++phonetic;
    if (name == "t") in_text = phonetic == 0 && !strings->empty();
  };
  h.end = [&](const std::string& name) {
    if (name == "rPh") --phonetic;
    if (name == "t") in_text = false;
  };
  h.text = [&](const char* text, int length) {
    if (in_text) strings->back().append(text, static_cast<std::size_t>(length));
  };
  return ParseXml("xl/sharedStrings.xml", xml, &h);
}

// The worksheets in the workbook's order: {name, part path}.
Status ReadSheetList(const ZipFile& zip, std::vector<std::pair<std::string, std::string>>* out) {
  std::string xml;
  BB_RETURN_IF_ERROR(zip.Read("xl/workbook.xml", &xml));
  std::vector<std::pair<std::string, std::string>> sheets;  // name, relationship id
  XmlHandlers h;
  h.start = [&](const std::string& name, const Attributes& a) {
    if (name != "sheet") return;
    std::string id;
    for (const auto& [key, value] : a) {
      if (key.size() > 3 && key.compare(key.size() - 3, 3, ":id") == 0) id = value;
    }
    auto named = a.find("name");
    sheets.push_back({named == a.end() ? "" : named->second, id});
  };
  BB_RETURN_IF_ERROR(ParseXml("xl/workbook.xml", xml, &h));
  if (sheets.size() > tunables::kMaxXlsxSheets) {
    return Status::InvalidArgument("the workbook has more than " +
                                   std::to_string(tunables::kMaxXlsxSheets) +
                                   " sheets: not a form");
  }

  BB_RETURN_IF_ERROR(zip.Read("xl/_rels/workbook.xml.rels", &xml));
  std::map<std::string, std::string> targets;
  XmlHandlers r;
  r.start = [&](const std::string& name, const Attributes& a) {
    if (name != "Relationship" || !a.count("Id") || !a.count("Target")) return;
    std::string target = a.at("Target");
    // Relative to xl/, or absolute from the package's root.
    target = target.rfind('/', 0) == 0 ? target.substr(1) : "xl/" + target;
    targets[a.at("Id")] = target;
  };
  BB_RETURN_IF_ERROR(ParseXml("xl/_rels/workbook.xml.rels", xml, &r));
  for (const auto& [name, id] : sheets) {
    auto it = targets.find(id);
    if (it == targets.end()) {
      return Status::InvalidArgument("xl/workbook.xml: sheet '" + name + "' has no part");
    }
    out->push_back({name, it->second});
  }
  return Status::OK();
}

Status ReadSheet(const ZipFile& zip, const std::string& part,
                 const std::vector<std::string>& shared, std::size_t* text_budget, Sheet* sheet) {
  std::string xml;
  BB_RETURN_IF_ERROR(zip.Read(part, &xml));
  Status problem;
  // The cell being read: where it goes, its type, and its value or inline text so far.
  long row = -1, column = -1;
  std::string type, value;
  bool in_value = false, in_inline = false, formula = false;
  auto cell_name = [&] { return ColumnLetters(column) + std::to_string(row + 1); };
  XmlHandlers h;
  h.start = [&](const std::string& name, const Attributes& a) {
    if (!problem.ok()) return;
    if (name == "row") {
      auto r = a.find("r");
      row = r != a.end() ? std::atol(r->second.c_str()) - 1 : row + 1;
      column = -1;
      if (row < 0 || static_cast<std::size_t>(row) >= tunables::kMaxXlsFormRows) {
        problem = Status::InvalidArgument("sheet '" + sheet->name + "' has more than " +
                                          std::to_string(tunables::kMaxXlsFormRows) +
                                          " rows (or a row numbered wrongly)");
      }
    } else if (name == "c") {
      auto r = a.find("r");
      column = r != a.end() ? ColumnOf(r->second) : column + 1;
      auto t = a.find("t");
      type = t == a.end() ? "n" : t->second;
      value.clear();
      formula = false;
      if (column < 0 || static_cast<std::size_t>(column) >= tunables::kMaxXlsFormColumns) {
        problem = Status::InvalidArgument("sheet '" + sheet->name + "' row " +
                                          std::to_string(row + 1) + " has a cell beyond column " +
                                          ColumnLetters(tunables::kMaxXlsFormColumns - 1));
      }
    } else if (name == "f") {
      formula = true;
    } else if (name == "v") {
      in_value = true;
    } else if (name == "is") {
      in_inline = true;
    }
  };
  h.text = [&](const char* text, int length) {
    if (in_value || in_inline) value.append(text, static_cast<std::size_t>(length));
  };
  h.end = [&](const std::string& name) {
    if (name == "v") in_value = false;
    if (name == "is") in_inline = false;
    if (name != "c" || !problem.ok() || row < 0 || column < 0) return;
    std::string text = value;
    if (type == "e") {
      problem = Status::InvalidArgument("sheet '" + sheet->name + "' cell " + cell_name() +
                                        " holds an error (" + value + "), not a value");
      return;
    }
    if (formula && value.empty()) {
      // A formula whose result was never saved: its text is unknown, not empty.
      problem = Status::InvalidArgument(
          "sheet '" + sheet->name + "' cell " + cell_name() +
          " holds a formula whose value was not saved; open and save the workbook in a "
          "spreadsheet program, or type the value in");
      return;
    }
    if (type == "s") {
      char* end = nullptr;
      unsigned long index = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || index >= shared.size()) {
        problem = Status::InvalidArgument("sheet '" + sheet->name + "' cell " +
                                          ColumnLetters(column) + std::to_string(row + 1) +
                                          " points to a shared text that is not there");
        return;
      }
      text = shared[index];
    } else if (type == "b") {
      text = value == "1" ? "TRUE" : "FALSE";
    }
    if (text.empty()) return;
    // Cells may share one long text: the budget counts each copy, so a small file cannot make
    // the reader hold gigabytes.
    if (text.size() > *text_budget) {
      problem = Status::InvalidArgument("the workbook's cells hold more than " +
                                        std::to_string(tunables::kMaxXlsxTextBytes >> 20) +
                                        " MiB of text: not a form");
      return;
    }
    *text_budget -= text.size();
    auto& rows = sheet->rows;
    if (rows.size() <= static_cast<std::size_t>(row)) rows.resize(row + 1);
    auto& cells = rows[row];
    if (cells.size() <= static_cast<std::size_t>(column)) cells.resize(column + 1);
    cells[column] = std::move(text);
  };
  BB_RETURN_IF_ERROR(ParseXml(part, xml, &h));
  return problem;
}

}  // namespace

const std::string& Sheet::Cell(std::size_t row, std::size_t column) const {
  static const std::string kEmpty;
  if (row >= rows.size() || column >= rows[row].size()) return kEmpty;
  return rows[row][column];
}

const Sheet* Workbook::Find(const std::string& name) const {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  for (const auto& sheet : sheets) {
    if (lower(sheet.name) == lower(name)) return &sheet;
  }
  return nullptr;
}

std::string ColumnLetters(std::size_t column) {
  std::string letters;
  for (std::size_t n = column + 1; n > 0; n = (n - 1) / 26) {
    letters.insert(letters.begin(), static_cast<char>('A' + (n - 1) % 26));
  }
  return letters;
}

Status ReadWorkbook(const std::string& path, Workbook* out) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return Status::IoError("cannot read " + path + ": " + ec.message());
  if (size > tunables::kMaxXlsxFileBytes) {
    return Status::InvalidArgument(path + " is larger than " +
                                   std::to_string(tunables::kMaxXlsxFileBytes >> 20) +
                                   " MiB: not a form");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Status::IoError("cannot read " + path);
  return ReadWorkbookBytes(bytes, path, out);
}

Status ReadWorkbookBytes(const std::string& bytes, const std::string& name, Workbook* out) {
  if (bytes.size() > tunables::kMaxXlsxFileBytes) {
    return Status::InvalidArgument(name + " is larger than " +
                                   std::to_string(tunables::kMaxXlsxFileBytes >> 20) +
                                   " MiB: not a form");
  }
  ZipFile zip;
  BB_RETURN_IF_ERROR(zip.Open(bytes, name));
  std::vector<std::string> shared;
  BB_RETURN_IF_ERROR(ReadSharedStrings(zip, &shared));
  std::vector<std::pair<std::string, std::string>> parts;
  BB_RETURN_IF_ERROR(ReadSheetList(zip, &parts));
  Workbook book;
  std::size_t text_budget = tunables::kMaxXlsxTextBytes;
  for (const auto& [name, part] : parts) {
    Sheet sheet;
    sheet.name = name;
    BB_RETURN_IF_ERROR(ReadSheet(zip, part, shared, &text_budget, &sheet));
    book.sheets.push_back(std::move(sheet));
  }
  *out = std::move(book);
  return Status::OK();
}

}  // namespace beatbook::server::xlsform
