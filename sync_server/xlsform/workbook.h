// A spreadsheet as XLSForm needs it: named sheets of text cells. Read from an .xlsx file with
// libzip and expat (the parts of Office Open XML that hold cell text: the workbook, its
// relationships, shared strings and worksheets), written with libxlsxwriter.
//
//   Workbook book;
//   Status s = ReadWorkbook("form.xlsx", &book);
//   const Sheet* survey = book.Find("survey");
//   survey->Cell(0, 1);  // row 1, column B, as text ("" when empty)
//
// Every cell is text as the sheet shows it: numbers as written ("3", "2.5"), booleans "TRUE" or
// "FALSE". Limits (tunables.h) keep a hostile file from using the machine: the size of each
// part once unpacked and the number of rows.
#pragma once

#include <string>
#include <vector>

#include "beatbook/status.h"

namespace beatbook::server::xlsform {

struct Sheet {
  std::string name;
  std::vector<std::vector<std::string>> rows;  // rows[0] is the spreadsheet's row 1

  // The text at (row, column), both from 0; "" beyond the cells there are.
  const std::string& Cell(std::size_t row, std::size_t column) const;
};

struct Workbook {
  std::vector<Sheet> sheets;  // in the workbook's order

  // The sheet named `name`, compared without case ("Survey" is "survey"); nullptr if none.
  const Sheet* Find(const std::string& name) const;
};

// "A" for column 0, "AB" for column 27: how a spreadsheet names a column.
std::string ColumnLetters(std::size_t column);

// Reads every worksheet of the .xlsx file at `path`. InvalidArgument, naming the part, for a file
// that is not an .xlsx workbook or goes past a limit; IoError if it cannot be read.
Status ReadWorkbook(const std::string& path, Workbook* out);
// The same from the file's bytes; `name` is what messages call it.
Status ReadWorkbookBytes(const std::string& bytes, const std::string& name, Workbook* out);

// Writes `book` as an .xlsx file at `path`, every cell as text, the first row of each sheet bold
// (XLSForm's column headers).
Status WriteWorkbook(const Workbook& book, const std::string& path);

}  // namespace beatbook::server::xlsform
