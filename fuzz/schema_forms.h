// The project's forms (schema/), loaded once, for the fuzz targets that decode records against
// them. A schema that does not load stops the fuzzer at once.
#pragma once

#include "beatbook/form.h"

inline const beatbook::FormSet& SchemaForms() {
  static beatbook::FormSet* forms = [] {
    auto* f = new beatbook::FormSet;
    if (!beatbook::FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, f).ok()) __builtin_trap();
    return f;
  }();
  return *forms;
}
