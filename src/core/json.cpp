// SPDX-License-Identifier: MIT
#include "core/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ubc {

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // Bytes >= 0x80 are UTF-8 and pass through; JSON only forbids raw control characters.
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

void JsonObject::key(std::string_view k) {
  if (!body_.empty()) body_ += ", ";
  body_ += '"';
  body_ += json_escape(k);
  body_ += "\": ";
}

JsonObject& JsonObject::add(std::string_view k, std::string_view value) {
  key(k);
  body_ += '"';
  body_ += json_escape(value);
  body_ += '"';
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, std::int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, std::uint64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, double value) {
  key(k);
  // JSON has no NaN or infinity.
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  // Shortest text that reads back as the same double.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  body_.append(buf, ec == std::errc{} ? end : buf);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add_null(std::string_view k) {
  key(k);
  body_ += "null";
  return *this;
}

JsonObject& JsonObject::add_raw(std::string_view k, std::string_view json) {
  key(k);
  body_ += json;
  return *this;
}

std::string json_array(const std::vector<std::string>& raw_elements) {
  std::string out = "[";
  for (std::size_t i = 0; i < raw_elements.size(); ++i) {
    if (i) out += ", ";
    out += raw_elements[i];
  }
  out += "]";
  return out;
}

namespace {

// A strict recursive-descent reader over the text; every method returns false on malformed
// input and the caller gives up on the whole document.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool at_end() {
    skip_ws();
    return pos_ == text_.size();
  }

  bool consume(char c) {
    skip_ws();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  char peek() {
    skip_ws();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  bool string(std::string& out) {
    if (!consume('"')) return false;
    out.clear();
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) return false;
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u':
          if (!unicode_escape(out)) return false;
          break;
        default: return false;
      }
    }
    return false;  // unterminated
  }

  // Any JSON value; scalars are stored in out, nested objects and arrays are checked for
  // well-formedness and reported as skipped.
  bool value(JsonValue& out, bool& skipped, int depth) {
    skipped = false;
    const char c = peek();
    if (c == '"') {
      std::string s;
      if (!string(s)) return false;
      out = std::move(s);
      return true;
    }
    if (c == '{' || c == '[') {
      skipped = true;
      return nested(depth);
    }
    if (literal("true")) {
      out = true;
      return true;
    }
    if (literal("false")) {
      out = false;
      return true;
    }
    if (literal("null")) {
      out = nullptr;
      return true;
    }
    return number(out);
  }

 private:
  static constexpr int kMaxDepth = 32;

  void skip_ws() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    skip_ws();
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool hex4(unsigned& out) {
    if (text_.size() - pos_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      out <<= 4;
      if (h >= '0' && h <= '9') out |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') out |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') out |= static_cast<unsigned>(h - 'A' + 10);
      else return false;
    }
    return true;
  }

  // \uXXXX, with UTF-16 surrogate pairs joined; a lone surrogate is malformed.
  bool unicode_escape(std::string& out) {
    unsigned cp = 0;
    if (!hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") return false;
      pos_ += 2;
      unsigned low = 0;
      if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  bool digits() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  // JSON's number grammar exactly (no leading '+', no leading zeros, no bare '.').
  bool number(JsonValue& out) {
    skip_ws();
    const std::size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    bool integral = true;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return false;
      integral = false;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return false;
      integral = false;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(first, last, i);
      if (ec == std::errc{} && end == last) {
        out = i;
        return true;
      }
      // Out of int64 range: fall through and keep it as a double.
    }
    double d = 0;
    const auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc{} || end != last) return false;
    out = d;
    return true;
  }

  bool nested(int depth) {
    if (depth >= kMaxDepth) return false;
    JsonValue ignored;
    bool skipped = false;
    if (consume('[')) {
      if (consume(']')) return true;
      do {
        if (!value(ignored, skipped, depth + 1)) return false;
      } while (consume(','));
      return consume(']');
    }
    if (!consume('{')) return false;
    if (consume('}')) return true;
    std::string k;
    do {
      if (!string(k) || !consume(':') || !value(ignored, skipped, depth + 1)) return false;
    } while (consume(','));
    return consume('}');
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::map<std::string, JsonValue>> parse_flat_json_object(std::string_view text) {
  Reader reader(text);
  std::map<std::string, JsonValue> result;
  if (!reader.consume('{')) return std::nullopt;
  if (!reader.consume('}')) {
    std::string k;
    JsonValue v;
    bool skipped = false;
    do {
      if (!reader.string(k) || !reader.consume(':') || !reader.value(v, skipped, 0)) return std::nullopt;
      if (!skipped) result[k] = std::move(v);
    } while (reader.consume(','));
    if (!reader.consume('}')) return std::nullopt;
  }
  if (!reader.at_end()) return std::nullopt;
  return result;
}

std::optional<std::string> json_string(const std::map<std::string, JsonValue>& obj, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return std::nullopt;
}

std::optional<std::int64_t> json_int(const std::map<std::string, JsonValue>& obj, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(&it->second)) return *i;
  // Another writer may have written 3.0 or 1e3 for a whole number.
  if (const auto* d = std::get_if<double>(&it->second)) {
    if (std::trunc(*d) == *d && *d >= -9.2e18 && *d <= 9.2e18) return static_cast<std::int64_t>(*d);
  }
  return std::nullopt;
}

std::optional<bool> json_bool(const std::map<std::string, JsonValue>& obj, const std::string& key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&it->second)) return *b;
  return std::nullopt;
}

}  // namespace ubc
