// libFuzzer: an .xlsx workbook as `sync_server forms import` reads it (libzip, expat), converted
// into a form against the real schema. It must answer with a Status, never crash, hang or read
// past a limit. The seeds are the shipped forms exported as XLSForms.
#include <cstddef>
#include <cstdint>
#include <string>

#include "schema_forms.h"
#include "sync_server/xlsform/xlsform.h"

using namespace beatbook::server::xlsform;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Workbook book;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!ReadWorkbookBytes(bytes, "input.xlsx", &book).ok()) return 0;
  XlsFormImport imported;
  (void)ImportXlsForm(book, SchemaForms(), "fuzzed", &imported);
  return 0;
}
