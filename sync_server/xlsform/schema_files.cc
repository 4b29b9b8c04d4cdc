#include "sync_server/xlsform/schema_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace beatbook::server::xlsform {

using nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

// `j` on one line, spaced as the schema files are: {"name": "place", "type": "text"}.
std::string OneLine(const ordered_json& j) {
  if (j.is_object()) {
    std::string text = "{";
    bool first = true;
    for (const auto& [key, value] : j.items()) {
      text += (first ? "" : ", ") + ordered_json(key).dump() + ": " + OneLine(value);
      first = false;
    }
    return text + "}";
  }
  if (j.is_array()) {
    std::string text = "[";
    for (std::size_t i = 0; i < j.size(); ++i) text += (i ? ", " : "") + OneLine(j[i]);
    return text + "]";
  }
  return j.dump();
}

// "[\n    A,\n    B\n  ]": a list with one item per line, indented under `indent`.
std::string Lines(const ordered_json& list, const std::string& indent) {
  if (list.empty()) return "[]";
  std::string text = "[\n";
  for (std::size_t i = 0; i < list.size(); ++i) {
    text += indent + "  " + OneLine(list[i]) + (i + 1 < list.size() ? ",\n" : "\n");
  }
  return text + indent + "]";
}

Status WriteFile(const fs::path& path, const std::string& text) {
  fs::path temporary = path;
  temporary += ".importing";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.flush()) {
      out.close();
      std::error_code ignored;
      fs::remove(temporary, ignored);
      return Status::IoError("cannot write " + temporary.string());
    }
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return Status::IoError("cannot write " + path.string() + ": " + ec.message());
  }
  return Status::OK();
}

}  // namespace

std::string FormFileText(const ordered_json& form) {
  std::string text = "{\n";
  std::size_t i = 0;
  for (const auto& [key, value] : form.items()) {
    text += "  " + ordered_json(key).dump() + ": " +
            (key == "fields" ? Lines(value, "  ") : OneLine(value)) +
            (++i < form.size() ? ",\n" : "\n");
  }
  return text + "}\n";
}

std::string ChoicesFileText(const ordered_json& choices) {
  std::string text = "{\n";
  std::size_t i = 0;
  for (const auto& [key, value] : choices.items()) {
    text += "  " + ordered_json(key).dump() + ": ";
    if (key == "lists" && value.is_object()) {
      text += "{\n";
      std::size_t n = 0;
      for (const auto& [name, items] : value.items()) {
        text += "    " + ordered_json(name).dump() + ": " + Lines(items, "    ") +
                (++n < value.size() ? ",\n" : "\n");
      }
      text += "  }";
    } else {
      text += value.is_array() ? Lines(value, "  ") : OneLine(value);
    }
    text += ++i < choices.size() ? ",\n" : "\n";
  }
  return text + "}\n";
}

Status WriteImport(const std::string& schema_dir, const XlsFormImport& imported,
                   std::string* form_file) {
  fs::path dir(schema_dir);
  fs::path file = dir / "forms" /
                  (imported.form["form"].get<std::string>() + ".v" +
                   std::to_string(imported.form["version"].get<int>()) + ".json");
  if (fs::exists(file)) {
    return Status::AlreadyExists(file.string() +
                                 " is there already; a form's versions are never changed");
  }
  if (!imported.lists.empty()) {
    std::ifstream in(dir / "choices.json");
    std::stringstream text;
    text << in.rdbuf();
    ordered_json choices = ordered_json::parse(text.str(), nullptr, false);
    if (!in || choices.is_discarded() || !choices.contains("lists")) {
      return Status::InvalidArgument((dir / "choices.json").string() + " cannot be read as JSON");
    }
    for (const auto& [name, items] : imported.lists) choices["lists"][name] = items;
    BB_RETURN_IF_ERROR(WriteFile(dir / "choices.json", ChoicesFileText(choices)));
  }
  BB_RETURN_IF_ERROR(WriteFile(file, FormFileText(imported.form)));
  *form_file = file.string();
  return Status::OK();
}

}  // namespace beatbook::server::xlsform
