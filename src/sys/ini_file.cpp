// SPDX-License-Identifier: MIT
#include "sys/ini_file.h"

#include <fcntl.h>
#include <ini.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "core/text.h"
#include "sys/unique_fd.h"

namespace ubc {
namespace {

// A config file is a few KiB; a far bigger one is the wrong file.
constexpr std::size_t kMaxFileSize = 1024 * 1024;
// Debian's inih parses what does not fit its `ini_max_line` buffer as a new line; long disk
// lists are normal, so it is raised, and a longer line is reported instead of cut.
constexpr std::size_t kMaxLineLength = 4096;

// inih's inline comment: ';' after whitespace. Returns the position or npos.
std::size_t find_inline_comment(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == ';' && is_space(s[i - 1])) return i;
  }
  return std::string_view::npos;
}

enum class LineKind { unexplained, blank_or_comment, section, entry, reported };

struct ParseState {
  std::vector<std::string_view> lines;
  std::vector<LineKind> kinds;
  std::vector<bool> continuation;
  std::size_t next = 0;         // lines handed to inih so far
  bool key_in_section = false;  // inih's `prev_name`: a key line above, same section
  int last_value_line = 0;      // last physical line merged into entries.back()
  IniFile result;
};

void add_error(IniFile& file, int line, std::string message) {
  file.problems.push_back(
      ConfigProblem{ConfigProblem::Severity::error, line, "", std::move(message)});
}

// Hands inih one line per call, so `next` is the line its handler is called for, and
// classifies it as inih will: that tells continuation lines and silently rejected ones.
char* read_line(char* buffer, int size, void* stream) {
  auto& st = *static_cast<ParseState*>(stream);
  if (st.next >= st.lines.size() || size < 2) return nullptr;
  const std::size_t index = st.next++;
  const int line_number = static_cast<int>(index) + 1;
  std::string_view line = st.lines[index];
  const std::string_view body = trim(line);

  std::string_view handed = line;
  if (line.find('\0') != std::string_view::npos) {
    add_error(st.result, line_number,
              "this line contains a NUL byte, so this is no text file; save the configuration "
              "with a text editor");
    st.kinds[index] = LineKind::reported;
    handed = {};
  } else if (line.size() > kMaxLineLength || line.size() + 2 > static_cast<std::size_t>(size)) {
    add_error(st.result, line_number,
              "this line is longer than " + std::to_string(kMaxLineLength) +
                  " characters; split the value over several lines, each continuation "
                  "line starting with a space");
    st.kinds[index] = LineKind::reported;
    handed = {};
  } else if (body.empty() || body.front() == ';' || body.front() == '#') {
    st.kinds[index] = LineKind::blank_or_comment;
  } else if (is_space(line.front()) && st.key_in_section) {
    st.continuation[index] = true;  // the handler marks it
  } else if (body.front() == '[') {
    const std::string_view head = body.substr(0, find_inline_comment(body));
    if (head.find(']') != std::string_view::npos) {
      st.kinds[index] = LineKind::section;
      st.key_in_section = false;
    }
  }
  handed.copy(buffer, handed.size());
  buffer[handed.size()] = '\n';
  buffer[handed.size() + 1] = '\0';
  return buffer;
}

int on_entry(void* user, const char* section, const char* name, const char* value) {
  auto& st = *static_cast<ParseState*>(user);
  const std::size_t index = st.next - 1;
  const int line_number = static_cast<int>(index) + 1;
  st.kinds[index] = LineKind::entry;
  auto& entries = st.result.entries;
  if (st.continuation[index] && !entries.empty()) {
    // inih strips inline comments on a key's first line only; strip them here too so a
    // commented continuation line means the same as a commented first line.
    std::string_view more = value;
    more = trim(more.substr(0, find_inline_comment(more)));
    IniEntry& entry = entries.back();
    entry.value.append(static_cast<std::size_t>(line_number - st.last_value_line), '\n');
    entry.value.append(more);
    st.last_value_line = line_number;
    return 1;
  }
  entries.push_back(IniEntry{std::string(trim(section)), name, value, line_number});
  st.last_value_line = line_number;
  st.key_in_section = *name != '\0';
  return 1;
}

// Debian's inih keeps its limits in globals; put the old value back whatever happens.
class MaxLineGuard {
 public:
  explicit MaxLineGuard(int value) : saved_(ini_max_line) { ini_max_line = value; }
  ~MaxLineGuard() { ini_max_line = saved_; }
  MaxLineGuard(const MaxLineGuard&) = delete;
  MaxLineGuard& operator=(const MaxLineGuard&) = delete;

 private:
  int saved_;
};

std::string errno_text(int error) { return std::system_category().message(error); }

std::string open_failure_message(int error) {
  std::string message = "cannot open the configuration file: " + errno_text(error);
  if (error == ENOENT) {
    return message +
           "; create it from config.ini.template, or name the right file with --config "
           "PATH or USB_BACKUP_COPIER_CONFIG";
  }
  if (error == EACCES || error == EPERM) {
    return message +
           "; run the command as root (the file holds the mail settings and "
           "should be readable by root only)";
  }
  return message + "; check the path given with --config or USB_BACKUP_COPIER_CONFIG";
}

}  // namespace

IniFile parse_ini(std::string_view text) {
  ParseState st;
  // inih skips a UTF-8 byte order mark itself, but the classification above must see the
  // same first line as inih does.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    st.lines.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  st.kinds.assign(st.lines.size(), LineKind::unexplained);
  st.continuation.assign(st.lines.size(), false);

  {
    // The line, "\n", the NUL and one to spare, as inih's own default has.
    const MaxLineGuard guard(static_cast<int>(kMaxLineLength + 3));
    if (ini_parse_stream(read_line, &st, on_entry, &st) < 0) {
      add_error(st.result, 0, "the INI parser ran out of memory; try again");
    }
  }

  // inih reports only the first bad line, by number; find every line it passed over.
  for (std::size_t i = 0; i < st.lines.size(); ++i) {
    if (st.kinds[i] != LineKind::unexplained) continue;
    const int line_number = static_cast<int>(i) + 1;
    // The line's text is not quoted: it may be a password written without '='.
    if (trim(st.lines[i]).front() == '[') {
      add_error(st.result, line_number,
                "this section header has no closing ']'; write it as [Backup], [Mail], "
                "[Webserver], [VEEAM] or [Debug]");
    } else {
      add_error(st.result, line_number,
                "this line is neither `key = value`, a [section] nor a comment; write "
                "`key = value`, or start the line with ';' to make it a comment");
    }
  }
  return std::move(st.result);
}

IniFile read_ini_file(const std::string& path) {
  IniFile failed;
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    add_error(failed, 0, open_failure_message(errno));
    return failed;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    add_error(failed, 0, "cannot read the configuration file: " + errno_text(errno));
    return failed;
  }
  if (S_ISDIR(st.st_mode)) {
    add_error(failed, 0,
              "this is a directory, not a configuration file; name the file itself, e.g. "
              "/etc/usb-backup-copier/config.ini");
    return failed;
  }
  std::string text;
  char chunk[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      add_error(failed, 0, "cannot read the configuration file: " + errno_text(errno));
      return failed;
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileSize) {
      add_error(failed, 0,
                "the file is larger than 1 MiB, which no configuration file is; check that "
                "--config names config.ini");
      return failed;
    }
  }
  return parse_ini(text);
}

}  // namespace ubc
