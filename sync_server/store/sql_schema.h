// The central store's schema, as one list of steps for both engines: step N takes a store from
// version N-1 to N. Each step is written once; the few words the engines spell differently are
// written as {{placeholders}} (the table at the top of sql_schema.cc), so a step's SQLite text is
// exactly what SQLite stores of that version ran. SqlCentralStore runs the steps a store lacks,
// in one transaction, when it opens the store. Never edit a step: stores in use have run it;
// append one.
#pragma once

#include <string>
#include <vector>

#include "sync_server/store/sql_session.h"

namespace beatbook::server {

struct SchemaStep {
  int version;       // the version the store has after this step
  const char* text;  // with {{placeholders}}
};

// Every step, in order; the last one's version is the current schema.
const std::vector<SchemaStep>& CentralSchemaSteps();

// A step's text in `dialect`'s words.
std::string SchemaText(const SchemaStep& step, SqlDialect dialect);

}  // namespace beatbook::server
