// SPDX-License-Identifier: MIT
#include "core/manifest.h"

#include <charconv>

namespace ubc {

namespace {

bool needs_escape(std::string_view name) {
  return name.find_first_of("\\\n\r") != std::string_view::npos;
}

std::string escape_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescape_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '\\') {
      out += name[i];
      continue;
    }
    if (++i == name.size()) return std::nullopt;
    switch (name[i]) {
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: return std::nullopt;
    }
  }
  return out;
}

// A path the copy could hold: relative, no empty, "." or ".." component.
bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// Calls f(line_number, line) for every line; a last line without '\n' counts too.
template <typename F>
void for_each_line(std::string_view text, F f) {
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    f(++number, text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// "[\]FIELD  NAME" -> FIELD and the unescaped name, as both our files write lines.
bool split_line(std::string_view line, std::string_view& field, std::string& name) {
  const bool escaped = !line.empty() && line.front() == '\\';
  if (escaped) line.remove_prefix(1);
  const std::size_t gap = line.find("  ");
  if (gap == std::string_view::npos) return false;
  field = line.substr(0, gap);
  const std::string_view raw = line.substr(gap + 2);
  if (escaped) {
    auto unescaped = unescape_name(raw);
    if (!unescaped) return false;
    name = std::move(*unescaped);
  } else {
    name.assign(raw);
  }
  return is_safe_relative_path(name);
}

template <typename Number>
bool parse_number(std::string_view text, Number& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

void append_line(std::string& out, std::string_view field, const std::string& name) {
  if (needs_escape(name)) {
    out += '\\';
    out += field;
    out += "  ";
    out += escape_name(name);
  } else {
    out += field;
    out += "  ";
    out += name;
  }
  out += '\n';
}

}  // namespace

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Reserved up front: grown by doubling, the text of 100,000 files would briefly be held
// twice over, at the copier's peak memory.
std::string render_sha256sums(const Manifest& manifest) {
  std::size_t size = 0;
  for (const auto& [path, entry] : manifest) size += entry.sha256.size() + path.size() + 4;
  std::string out;
  out.reserve(size);
  for (const auto& [path, entry] : manifest) append_line(out, entry.sha256, path);
  return out;
}

std::string render_stamps(const Manifest& manifest) {
  // Two numbers of up to 20 digits and their separators.
  std::size_t size = 0;
  for (const auto& [path, entry] : manifest) size += entry.stamp ? path.size() + 46 : 0;
  std::string out;
  out.reserve(size);
  for (const auto& [path, entry] : manifest)
    if (entry.stamp)
      append_line(out, std::to_string(entry.stamp->size) + " " + std::to_string(entry.stamp->mtime_ns), path);
  return out;
}

ParsedManifest parse_sha256sums(std::string_view text) {
  ParsedManifest parsed;
  for_each_line(text, [&](int number, std::string_view line) {
    std::string_view field;
    std::string name;
    if (!split_line(line, field, name)) {
      parsed.bad_lines.push_back(number);
      return;
    }
    std::string hash(field);
    for (char& c : hash)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!is_sha256_hex(hash)) {
      parsed.bad_lines.push_back(number);
      return;
    }
    parsed.entries[std::move(name)] = ManifestEntry{std::move(hash), std::nullopt};
  });
  return parsed;
}

void apply_stamps(std::string_view text, Manifest& manifest) {
  for_each_line(text, [&](int, std::string_view line) {
    std::string_view field;
    std::string name;
    if (!split_line(line, field, name)) return;
    const std::size_t space = field.find(' ');
    if (space == std::string_view::npos) return;
    FileStamp stamp;
    if (!parse_number(field.substr(0, space), stamp.size) ||
        !parse_number(field.substr(space + 1), stamp.mtime_ns))
      return;
    if (auto it = manifest.find(name); it != manifest.end()) it->second.stamp = stamp;
  });
}

}  // namespace ubc
