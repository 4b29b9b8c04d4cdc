// The return as an Excel workbook: one sheet per priority, a row per indicator.
#include <xlsxwriter.h>

#include "sync_server/report/quarterly_return.h"

namespace beatbook::server {

using nlohmann::json;

Status WriteXlsx(const Catalogue& catalogue, const json& report, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (wb == nullptr) return Status::IoError("cannot create workbook " + path);
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  const char* headers[] = {"Indicator", "Aim", "Label", "Kind", "Wanted",
                           "Q1",        "Q2",  "Q3",    "Q4",   "Year"};
  for (const Priority& p : catalogue.priorities()) {
    std::string name = p.label.substr(0, 31);  // Excel's limit on sheet names
    for (char& c : name) {
      if (std::string("[]:*?/\\").find(c) != std::string::npos) c = ' ';
    }
    lxw_worksheet* ws = workbook_add_worksheet(wb, name.c_str());
    for (int c = 0; c < 10; ++c)
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), headers[c], bold);
    worksheet_set_column(ws, 0, 0, 32, nullptr);
    worksheet_set_column(ws, 2, 2, 60, nullptr);
    lxw_row_t row = 1;
    for (const auto& ind : report["indicators"]) {
      if (ind["priority"] != p.id) continue;
      worksheet_write_string(ws, row, 0, ind["id"].get<std::string>().c_str(), nullptr);
      worksheet_write_string(ws, row, 1, ind["aim"].get<std::string>().c_str(), nullptr);
      worksheet_write_string(ws, row, 2, ind["label"].get<std::string>().c_str(), nullptr);
      worksheet_write_string(ws, row, 3, ind["kind"].get<std::string>().c_str(), nullptr);
      worksheet_write_string(ws, row, 4, ind["direction"].get<std::string>().c_str(), nullptr);
      lxw_col_t col = 5;
      for (const char* q : {"Q1", "Q2", "Q3", "Q4", "year"}) {
        const json& v = ind["values"][q];
        if (v.is_number()) {
          worksheet_write_number(ws, row, col, v.get<double>(), nullptr);
        } else if (v.is_string()) {
          worksheet_write_string(ws, row, col, v.get<std::string>().c_str(), nullptr);
        }
        ++col;
      }
      ++row;
    }
  }
  lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) {
    return Status::IoError("cannot write workbook " + path + ": " + lxw_strerror(err));
  }
  return Status::OK();
}

}  // namespace beatbook::server
