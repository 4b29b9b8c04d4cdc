#include "sync_server/xlsform/expressions.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace beatbook::server::xlsform {

using nlohmann::json;

namespace {

struct Token {
  enum Kind { kRef, kString, kNumber, kSelf, kName, kOp, kOpen, kClose, kComma } kind;
  std::string text;  // the field name, the string's content, the number, the operator or name
};

// "" or what is wrong; `*out` the expression's tokens.
std::string Tokenize(const std::string& text, std::vector<Token>* out) {
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t end = text.find('}', i);
      if (end == std::string::npos) return "'${' is not closed with '}'";
      out->push_back({Token::kRef, text.substr(i + 2, end - i - 2)});
      i = end + 1;
    } else if (c == '\'' || c == '"') {
      std::size_t end = text.find(c, i + 1);
      if (end == std::string::npos) return std::string("a text in ") + c + " is not closed";
      out->push_back({Token::kString, text.substr(i + 1, end - i - 1)});
      i = end + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      std::size_t end = i + 1;
      while (end < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
        ++end;
      }
      out->push_back({Token::kNumber, text.substr(i, end - i)});
      i = end;
    } else if (c == '.' && (i + 1 == text.size() || text[i + 1] != '.')) {
      out->push_back({Token::kSelf, "."});
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t end = i;
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '-' || text[end] == '_')) {
        ++end;
      }
      out->push_back({Token::kName, text.substr(i, end - i)});
      i = end;
    } else if (c == '!' || c == '<' || c == '>' || c == '=') {
      std::size_t n = i + 1 < text.size() && text[i + 1] == '=' ? 2 : 1;
      std::string op = text.substr(i, n);
      if (op == "!") return "'!' alone is not an operator (use !=)";
      out->push_back({Token::kOp, op});
      i += n;
    } else if (c == '(' || c == ')' || c == ',') {
      out->push_back({c == '('   ? Token::kOpen
                      : c == ')' ? Token::kClose
                                 : Token::kComma,
                      std::string(1, c)});
      ++i;
    } else {
      return std::string("'") + c + "' is not something Beatbook reads in an expression";
    }
  }
  return "";
}

// The terms of `tokens` joined by `word` ("and"/"or") at the top level.
std::vector<std::vector<Token>> SplitOn(const std::vector<Token>& tokens, const char* word) {
  std::vector<std::vector<Token>> terms(1);
  int depth = 0;
  for (const auto& t : tokens) {
    if (t.kind == Token::kOpen) ++depth;
    if (t.kind == Token::kClose) --depth;
    if (depth == 0 && t.kind == Token::kName && t.text == word) {
      terms.emplace_back();
    } else {
      terms.back().push_back(t);
    }
  }
  return terms;
}

bool Is(const std::vector<Token>& t, std::size_t i, Token::Kind kind,
        const std::string& text = "") {
  return i < t.size() && t[i].kind == kind && (text.empty() || t[i].text == text);
}

// A number token as a finite double; false for "1.2.3" or one too large to hold.
bool ToNumber(const std::string& text, double* out) {
  if (std::count(text.begin(), text.end(), '.') > 1) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(text.c_str(), &end);
  return *end == '\0' && errno == 0 && std::isfinite(*out);
}

// A literal compared with a field of `type`, as the form JSON holds it.
std::string Literal(const Token& t, FieldType type, json* out) {
  if (type == FieldType::kBoolean) {
    if (t.kind == Token::kString && (t.text == "yes" || t.text == "no")) {
      *out = t.text == "yes";
      return "";
    }
    return "a yes/no question is compared with 'yes' or 'no'";
  }
  if (t.kind == Token::kNumber) {
    if (type != FieldType::kInteger && type != FieldType::kNumber) {
      return "the number " + t.text + " is compared with a question that is not a number";
    }
    double number = 0;
    if (!ToNumber(t.text, &number) || std::fabs(number) > 1e15) {
      return "the number " + t.text + " cannot be read";
    }
    if (type == FieldType::kInteger && std::floor(number) == number) {
      *out = static_cast<long long>(number);
    } else {
      *out = number;
    }
    return "";
  }
  if (t.kind == Token::kString) {
    *out = t.text;
    return "";
  }
  return "expected a value ('text' or a number) to compare with";
}

const char kRelevantForms[] =
    "Beatbook can express a condition on one question: ${q} = 'value', several values joined by "
    "or, selected(${q}, 'code'), or ${q} != '' (answered)";

// One comparison of a relevant: {"field", "op", "value"} with op "=", "selected" or "answered".
std::string Comparison(const std::vector<Token>& t, const FieldTypes& types, std::string* field,
                       std::string* op, json* value) {
  auto type_of = [&](const std::string& name, FieldType* type) -> std::string {
    auto it = types.find(name);
    if (it == types.end()) return "${" + name + "} is not a question of this form";
    *type = it->second;
    return "";
  };
  FieldType type = FieldType::kText;
  if (t.size() == 3 && Is(t, 0, Token::kRef) && Is(t, 1, Token::kOp)) {
    *field = t[0].text;
    if (std::string why = type_of(*field, &type); !why.empty()) return why;
    if (t[1].text == "!=" && Is(t, 2, Token::kString) && t[2].text.empty()) {
      *op = "answered";
      return "";
    }
    if (t[1].text == "=") {
      *op = "=";
      return Literal(t[2], type, value);
    }
  }
  if (t.size() == 6 && Is(t, 0, Token::kName, "selected") && Is(t, 1, Token::kOpen) &&
      Is(t, 2, Token::kRef) && Is(t, 3, Token::kComma) && Is(t, 4, Token::kString) &&
      Is(t, 5, Token::kClose)) {
    *field = t[2].text;
    if (std::string why = type_of(*field, &type); !why.empty()) return why;
    if (type == FieldType::kBoolean) {
      *op = "=";  // a select_one yes_no: selected(${q}, 'yes') is ${q} = 'yes'
      return Literal(t[4], type, value);
    }
    if (type == FieldType::kSelectOne) {
      *op = "=";  // selected() of a single choice is that choice
    } else if (type == FieldType::kSelectMultiple) {
      *op = "selected";
    } else {
      return "selected() reads a select_one or select_multiple question";
    }
    *value = t[4].text;
    return "";
  }
  return kRelevantForms;
}

}  // namespace

std::string NumberText(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  return buffer;
}

std::string RelevantFromXlsForm(const std::string& text, const FieldTypes& types, json* out) {
  std::vector<Token> tokens;
  if (std::string why = Tokenize(text, &tokens); !why.empty()) return why;
  if (tokens.empty()) return "an empty condition";
  for (const auto& t : tokens) {
    if (t.kind == Token::kName && t.text == "and") {
      return "'and' joins two conditions, and Beatbook's relevant holds one. " +
             std::string(kRelevantForms);
    }
  }
  std::vector<std::vector<Token>> terms = SplitOn(tokens, "or");
  std::string field, op;
  json value;
  if (std::string why = Comparison(terms[0], types, &field, &op, &value); !why.empty()) {
    return why;
  }
  if (terms.size() == 1) {
    if (op == "answered") {
      *out = {{"field", field}, {"present", true}};
    } else if (op == "selected") {
      *out = {{"field", field}, {"includes", value}};
    } else {
      *out = {{"field", field}, {"equals", value}};
    }
    return "";
  }
  // Several values of one question: "one of".
  json values = json::array({value});
  for (std::size_t i = 1; i < terms.size(); ++i) {
    std::string other_field, other_op;
    json other;
    if (std::string why = Comparison(terms[i], types, &other_field, &other_op, &other);
        !why.empty()) {
      return why;
    }
    if (other_field != field || other_op != "=" || op != "=") {
      return "'or' may only join values of one single-choice question (${" + field +
             "} = 'a' or ${" + field +
             "} = 'b'); Beatbook's relevant cannot hold 'either of "
             "two ticks' or conditions on two questions";
    }
    values.push_back(other);
  }
  *out = {{"field", field}, {"in", values}};
  return "";
}

std::string ConstraintFromXlsForm(const std::string& text, FieldType type,
                                  nlohmann::ordered_json* field) {
  std::vector<Token> tokens;
  if (std::string why = Tokenize(text, &tokens); !why.empty()) return why;
  const bool numeric = type == FieldType::kInteger || type == FieldType::kNumber;
  for (const auto& term : SplitOn(tokens, "and")) {
    if (term.size() == 3 && Is(term, 0, Token::kSelf) && Is(term, 1, Token::kOp) &&
        Is(term, 2, Token::kNumber) && numeric) {
      double bound = 0;
      if (!ToNumber(term[2].text, &bound) || std::fabs(bound) > 1e15) {
        return "the number " + term[2].text + " cannot be read";
      }
      const std::string& op = term[1].text;
      // Strict bounds are whole-number bounds one step in: . > 0 is . >= 1.
      if ((op == ">" || op == "<") && type == FieldType::kInteger && std::floor(bound) == bound) {
        bound += op == ">" ? 1 : -1;
      } else if (op != ">=" && op != "<=") {
        return "Beatbook's bounds include their limit (. >= 0, . <= 5); '" + op +
               "' is one it cannot express for this question";
      }
      const char* key = op[0] == '>' ? "min" : "max";
      if (field->contains(key)) {
        return std::string("two ") + (op[0] == '>' ? "lower" : "upper") +
               " bounds; Beatbook keeps one of each";
      }
      if (std::floor(bound) == bound && std::fabs(bound) < 1e15) {
        (*field)[key] = static_cast<long long>(bound);
      } else {
        (*field)[key] = bound;
      }
      continue;
    }
    if (term.size() == 6 && Is(term, 0, Token::kName, "string-length") &&
        Is(term, 1, Token::kOpen) && Is(term, 2, Token::kSelf) && Is(term, 3, Token::kClose) &&
        Is(term, 4, Token::kOp, "<=") && Is(term, 5, Token::kNumber) && type == FieldType::kText &&
        term[5].text.find('.') == std::string::npos) {
      if (field->contains("max_length")) return "two longest lengths; Beatbook keeps one";
      double length = 0;
      if (!ToNumber(term[5].text, &length) || length < 1 || length > 1e9) {
        return "a longest length of " + term[5].text + " cannot be read";
      }
      (*field)["max_length"] = static_cast<long long>(length);
      continue;
    }
    return numeric ? "Beatbook can express bounds on a number: . >= N, . <= N, joined by and"
           : type == FieldType::kText
               ? "Beatbook can express a text's longest length: string-length(.) <= N"
               : "Beatbook cannot express a constraint on this type of question";
  }
  return "";
}

std::string RequiredFromXlsForm(const std::string& text, bool* required) {
  std::string t;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (t.empty() || t == "no" || t == "false" || t == "false()") {
    *required = false;
    return "";
  }
  if (t == "yes" || t == "true" || t == "true()") {
    *required = true;
    return "";
  }
  return "Beatbook's required is yes or no (a condition cannot be expressed; a question that "
         "applies only sometimes takes a relevant)";
}

namespace {

std::string Quoted(const json& value, FieldType type) {
  if (type == FieldType::kBoolean && value.is_boolean()) {
    return value.get<bool>() ? "'yes'" : "'no'";
  }
  if (value.is_number()) return NumberText(value.get<double>());
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  // XPath has no escapes: a text holding ' is written between double quotes.
  return text.find('\'') == std::string::npos ? "'" + text + "'" : "\"" + text + "\"";
}

}  // namespace

std::string RelevantToXlsForm(const Relevance& r, const FieldTypes& types) {
  using Op = Relevance::Op;
  auto it = types.find(r.field);
  FieldType type = it == types.end() ? FieldType::kText : it->second;
  const std::string ref = "${" + r.field + "}";
  switch (r.op) {
    case Op::kEquals:
      return ref + " = " + Quoted(r.operand, type);
    case Op::kIncludes:
      return "selected(" + ref + ", " + Quoted(r.operand, type) + ")";
    case Op::kPresent:
      return ref + " != ''";
    case Op::kIn:
    case Op::kInList: {
      std::vector<json> values;
      if (r.op == Op::kIn) {
        for (const auto& v : r.operand) values.push_back(v);
      } else {
        for (const auto& code : r.list_codes) values.push_back(code);
      }
      std::string text;
      for (const auto& v : values)
        text += (text.empty() ? "" : " or ") + ref + " = " + Quoted(v, type);
      return text;
    }
  }
  return "";
}

std::string ConstraintToXlsForm(const FieldDef& field) {
  std::string text;
  auto add = [&](const std::string& part) { text += (text.empty() ? "" : " and ") + part; };
  if (field.min) add(". >= " + NumberText(*field.min));
  if (field.max) add(". <= " + NumberText(*field.max));
  if (field.max_length) add("string-length(.) <= " + std::to_string(field.max_length));
  return text;
}

}  // namespace beatbook::server::xlsform
