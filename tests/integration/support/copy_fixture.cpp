// SPDX-License-Identifier: MIT
#include "support/copy_fixture.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/udevd.h"

namespace ubc::test {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------
// Looking at the disk.

DiskView::DiskView(LoopDisk& disk) : disk_(disk), path_(disk.mount_for_inspection()) {}

DiskView::~DiskView() { disk_.unmount(); }

std::map<std::string, TreeEntry> whole_disk(LoopDisk& disk) {
  DiskView view(disk);
  return scan_tree(view.path());
}

void expect_disk_untouched(const std::map<std::string, TreeEntry>& before, LoopDisk& disk) {
  std::string differences;
  for (const auto& d : tree_differences(before, whole_disk(disk))) differences += d + "\n";
  EXPECT_EQ(differences, "");
}

RwMount::RwMount(const std::string& devnode) : path_(make_temp_dir("ubc-rw")) { run_ok({"mount", devnode, path_}); }

RwMount::~RwMount() {
  (void)run({"umount", path_});
  ::rmdir(path_.c_str());
}

namespace {

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct MountInfoLine {
  std::string dev;  // major:minor
  std::string target;
  std::string source;
};

std::vector<MountInfoLine> mountinfo() {
  std::vector<MountInfoLine> out;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string id, parent, dev, root, target, field;
    s >> id >> parent >> dev >> root >> target;
    while (s >> field && field != "-") {
    }
    std::string type, source;
    s >> type >> source;
    out.push_back({dev, unescape_mountinfo(target), unescape_mountinfo(source)});
  }
  return out;
}

}  // namespace

bool is_mounted_anywhere(const std::string& devnode) {
  struct stat st {};
  std::string dev;
  if (::stat(devnode.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
    dev = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  for (const auto& m : mountinfo())
    if (m.source == devnode || (!dev.empty() && m.dev == dev)) return true;
  return false;
}

bool is_mount_point(const std::string& path) {
  const std::string canonical = fs::weakly_canonical(path).string();
  for (const auto& m : mountinfo())
    if (m.target == canonical) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// The fixture.

namespace {

bool on_path(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && ::access((d + "/" + tool).c_str(), X_OK) == 0) return true;
  return false;
}

using Lines = std::vector<std::pair<std::string, std::string>>;

std::string key_of(const std::string& line) {
  const auto eq = line.find('=');
  std::string k = line.substr(0, eq);
  while (!k.empty() && k.back() == ' ') k.pop_back();
  while (!k.empty() && k.front() == ' ') k.erase(0, 1);
  return k;
}

void merge(Lines& base, const std::vector<std::string>& extra) {
  for (const auto& line : extra) {
    const std::string k = key_of(line);
    const auto eq = line.find('=');
    std::string v = eq == std::string::npos ? "" : line.substr(eq + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    const auto it = std::find_if(base.begin(), base.end(), [&](const auto& kv) { return kv.first == k; });
    if (it != base.end())
      it->second = v;
    else
      base.emplace_back(k, v);
  }
}

std::string section(const std::string& name, const Lines& lines) {
  std::string out = "[" + name + "]\n";
  for (const auto& [k, v] : lines) out += k + " = " + v + "\n";
  return out;
}

}  // namespace

CopyFixture::CopyFixture(CopyFixtureOptions options) : options_(std::move(options)) {
  if (!running_as_root()) throw std::runtime_error("the copy job tests need root (loop devices, mount)");
  for (const char* tool : {"rsync", "sqlite3", "flock", "mkfs.ext4", "mkfs.xfs", "openssl"})
    if (!on_path(tool))
      throw std::runtime_error(std::string(tool) + " is missing: run scripts/install-deps (as root)");
  if (::access(binary_path("usb-backup-copier").c_str(), X_OK) != 0)
    throw std::runtime_error(binary_path("usb-backup-copier") +
                             " is missing: build the target usb-backup-copier first");
  shared_udevd();
  dir_ = make_temp_dir("ubc-copy");
  try {
    for (const char* sub : {"repo", "mnt", "state", "run", "veeam"}) fs::create_directory(dir_ + "/" + sub);
    disk_ = std::make_unique<LoopDisk>(options_.fstype, random_fs_uuid(options_.fstype), options_.label,
                                       options_.disk_mib);
    ScopedUdevd::refresh(disk_->devnode());
    if (options_.starttls) {
      fs::create_directory(dir_ + "/tls");
      certificates_ = make_test_certificates(dir_ + "/tls");
    }
    smtp_port_ = free_port();
    if (options_.start_smtp) start_smtp();
    write_config();
  } catch (...) {
    smtp_.reset();
    disk_.reset();
    remove_tree(dir_);
    throw;
  }
}

CopyFixture::~CopyFixture() {
  // A copier that was killed may have left the disk mounted at mnt/.
  if (is_mount_point(mount_point())) (void)run({"umount", "-l", mount_point()});
  smtp_.reset();
  disk_.reset();
  if (!is_mount_point(mount_point())) remove_tree(dir_);
}

void CopyFixture::stop_smtp() {
  if (smtp_) smtp_->stop();
  smtp_.reset();
}

void CopyFixture::start_smtp() {
  SmtpServerOptions o;
  o.port = smtp_port_;
  o.silent = options_.silent_smtp;
  if (!options_.smtp_username.empty()) {
    o.username = options_.smtp_username;
    o.password = options_.smtp_password;
    o.auth_without_tls = true;
  }
  if (options_.starttls) {
    o.cert_file = certificates_.cert_file;
    o.key_file = certificates_.key_file;
  }
  smtp_ = std::make_unique<SmtpServer>(o);
}

void CopyFixture::write_config(const std::vector<std::string>& extra_backup_lines,
                               const std::vector<std::string>& extra_mail_lines) {
  // A config needs at least one disk: a stranger's UUID when this disk is not listed.
  const std::string listed = options_.whitelist ? disk_->uuid() : random_fs_uuid("ext4");
  Lines backup{
      {"filesystem-ids-and-notification-mail-addresses", listed + ", disk-owner@example.com"},
      {"backup-source", source()},
      {"backup-destination", mount_point()},
      {"veeam-lockfile-path", veeam_dir() + "/coordination.lock"},
      {"log-file-path", log_file()},
      {"rsync-log-file-path", rsync_log()},
      {"rsync-update-ratio-seconds", "1"},
      {"free-space-threshold-gb", "0"},
      {"wait-for-veeam-minutes", "1"},
      {"state-directory", state_dir()},
      {"runtime-directory", runtime_dir()},
  };
  Lines mail{
      {"to-mail-addresses-sysop", "sysop@example.com"},
      {"from-mail-address", "usb-backup-copier@example.com"},
      {"server", "127.0.0.1"},
      {"port", std::to_string(smtp_port_)},
      {"security", options_.starttls ? "starttls" : "none"},
  };
  if (options_.starttls) mail.emplace_back("ca-file", certificates_.ca_file);
  if (!options_.smtp_username.empty()) {
    mail.emplace_back("username", options_.smtp_username);
    mail.emplace_back("password", options_.smtp_password);
  }
  merge(backup, options_.backup_lines);
  merge(backup, extra_backup_lines);
  merge(mail, options_.mail_lines);
  merge(mail, extra_mail_lines);
  Lines veeam{{"veeam-lockfiles", veeam_dir()}};
  merge(veeam, options_.veeam_lines);
  const std::string text =
      section("Backup", backup) + section("Mail", mail) + section("VEEAM", veeam) + options_.extra_sections;
  write_file(config_path(), text);
  ::chmod(config_path().c_str(), 0600);
}

CopierResult CopyFixture::copy(const std::vector<std::string>& extra_args) const {
  std::vector<std::string> args{"copy", "--device", disk_->devnode()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return copier(args);
}

std::unique_ptr<ChildProcess> CopyFixture::start_copy(const std::vector<std::string>& extra_args) const {
  std::vector<std::string> argv{binary_path("usb-backup-copier"), "--config", config_path(), "copy", "--device",
                                disk_->devnode()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<ChildProcess>(argv);
}

CopierResult CopyFixture::copier(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{binary_path("usb-backup-copier"), "--config", config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

CopierResult CopyFixture::veeam_tool(const std::string& name, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{binary_path(name), "--config", config_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, std::chrono::minutes(1));
}

std::vector<HistoryRow> CopyFixture::history() const {
  const std::string db = state_dir() + "/history.db";
  if (!fs::exists(db)) return {};
  std::string out;
  // One JSON object per row: reasons and warnings may hold any character.
  const int rc = run({"sqlite3", "-readonly", db,
                      "SELECT json_object('uuid', uuid, 'outcome', outcome, 'reason', reason, 'warnings',"
                      " coalesce(warnings, ''), 'bytes', bytes, 'files', files) FROM runs WHERE uuid = '" +
                          disk_->uuid() + "' ORDER BY id;"},
                     &out);
  if (rc != 0) throw std::runtime_error("sqlite3 on " + db + " failed: " + out);
  std::vector<HistoryRow> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto obj = parse_json_object(line);
    if (!obj) throw std::runtime_error("unexpected sqlite3 output: " + line);
    HistoryRow r;
    r.uuid = json_string(*obj, "uuid").value_or("");
    r.outcome = json_string(*obj, "outcome").value_or("");
    r.reason = json_string(*obj, "reason").value_or("");
    r.warnings = json_string(*obj, "warnings").value_or("");
    r.bytes = json_int(*obj, "bytes").value_or(-1);
    r.files = json_int(*obj, "files").value_or(-1);
    rows.push_back(r);
  }
  return rows;
}

std::optional<Json> CopyFixture::status() const {
  std::string text;
  try {
    text = read_file(status_file());
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  return parse_json_object(text);
}

std::optional<Json> CopyFixture::disk_state() {
  DiskView view(*disk_);
  const std::string path = view.path() + "/.usb-backup-copier/state.json";
  if (!fs::exists(path)) return std::nullopt;
  return parse_json_object(read_file(path));
}

std::vector<Json> CopyFixture::mails() {
  std::vector<Json> out;
  if (!smtp_) return out;
  for (const auto& file : smtp_->message_files()) out.push_back(parse_mail(file));
  return out;
}

std::vector<Json> CopyFixture::wait_for_mails(std::size_t count,
                                                                          std::chrono::milliseconds timeout) {
  if (smtp_) (void)smtp_->wait_for_messages(count, timeout);
  return mails();
}

bool CopyFixture::disk_released() const {
  std::error_code ec;
  return !is_mount_point(mount_point()) && fs::is_empty(mount_point(), ec) && !ec &&
         !is_mounted_anywhere(disk_->devnode());
}

}  // namespace ubc::test
