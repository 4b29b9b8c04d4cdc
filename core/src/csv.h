// CSV cells (RFC 4180), for the quarterly return and record exports.
#pragma once

#include <string>

namespace beatbook {

// A cell: quoted if it holds a comma, quote or line break, with quotes doubled inside.
std::string CsvField(const std::string& s);

// A cell of free text typed by someone in the field: as CsvField, and a leading =, +, -, @, tab
// or carriage return is escaped with a ' so a spreadsheet opening the file shows the text rather
// than running it as a formula (CSV injection).
std::string CsvText(const std::string& s);

}  // namespace beatbook
