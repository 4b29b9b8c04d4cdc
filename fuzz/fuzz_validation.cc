// libFuzzer: a record object as `log --json` reads it, validated against the real forms.
#include <cstddef>
#include <cstdint>

#include "beatbook/datetime.h"
#include "beatbook/local_store.h"
#include "beatbook/validation.h"

using namespace beatbook;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FormSet* forms = [] {
    auto* f = new FormSet;
    if (!FormSet::LoadDir(BEATBOOK_SCHEMA_DIR, f).ok()) __builtin_trap();
    return f;
  }();
  json doc = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  RecordInput in;
  if (!RecordInput::FromJson(doc, "record 1", &in).ok()) return 0;
  const FormDef* form = forms->Latest(in.form);
  if (form == nullptr) return 0;
  std::int64_t ms = 0;
  if (in.occurred_at) (void)ParseIsoDateTime(*in.occurred_at, &ms);
  auto errors = ValidateFields(*form, in.fields, ms);
  (void)JoinErrors(errors);
  for (const auto& f : form->fields) {
    json v;
    (void)ParseFieldText(f, std::string(reinterpret_cast<const char*>(data), size), &v);
  }
  return 0;
}
