// Where the tests find the partnership's forms and catalogue: the source tree's schema/ (set by
// tests/CMakeLists.txt as BEATBOOK_SCHEMA_DIR). Header-only, so core tests need nothing else.
#pragma once

#include <string>

namespace beatbook::test {

inline std::string SchemaDir() { return BEATBOOK_SCHEMA_DIR; }

}  // namespace beatbook::test
