// Writing a workbook of text cells as .xlsx (workbook.h), with libxlsxwriter.
#include <xlsxwriter.h>

#include "sync_server/xlsform/workbook.h"

namespace beatbook::server::xlsform {

Status WriteWorkbook(const Workbook& book, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (wb == nullptr) return Status::IoError("cannot create workbook " + path);
  lxw_format* header = workbook_add_format(wb);
  format_set_bold(header);
  for (const Sheet& sheet : book.sheets) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, sheet.name.c_str());
    if (ws == nullptr) {
      workbook_close(wb);
      return Status::InvalidArgument("cannot name a sheet '" + sheet.name + "'");
    }
    for (std::size_t r = 0; r < sheet.rows.size(); ++r) {
      for (std::size_t c = 0; c < sheet.rows[r].size(); ++c) {
        if (sheet.rows[r][c].empty()) continue;
        worksheet_write_string(ws, static_cast<lxw_row_t>(r), static_cast<lxw_col_t>(c),
                               sheet.rows[r][c].c_str(), r == 0 ? header : nullptr);
      }
    }
    // Wide enough to read a label without widening the column first.
    if (!sheet.rows.empty()) {
      worksheet_set_column(ws, 0, static_cast<lxw_col_t>(sheet.rows[0].size()), 24, nullptr);
    }
    worksheet_freeze_panes(ws, 1, 0);  // the headers stay in view
  }
  lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) {
    return Status::IoError("cannot write workbook " + path + ": " + lxw_strerror(err));
  }
  return Status::OK();
}

}  // namespace beatbook::server::xlsform
