// Where the programs find what ships with them when not told: the forms (schema) directory.
//
//   std::string dir = SchemaDirFor(flag_value, BEATBOOK_SCHEMA_DIR);
//
// In order: the --schema flag, the BEATBOOK_SCHEMA environment variable, the installed copy
// beside the program (<program's directory>/../share/beatbook/schema, as the Debian packages lay
// it out: /usr/bin and /usr/share/beatbook/schema), and last the source tree the program was
// built from (running from a build directory).
#pragma once

#include <string>

namespace beatbook {

std::string SchemaDirFor(const std::string& flag, const std::string& built_from);

// The directory of the running program (from /proc/self/exe), or "" if it cannot be read.
std::string ProgramDir();

}  // namespace beatbook
