// SPDX-License-Identifier: MIT
#include "support/loop_disk.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace ubc::test {

int run(const std::vector<std::string>& argv, std::string* output) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls before exec.
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output) *output = out;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string run_ok(const std::vector<std::string>& argv) {
  std::string out;
  const int rc = run(argv, &out);
  if (rc != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error(cmd + "exited " + std::to_string(rc) + ": " + out);
  }
  return out;
}

bool running_as_root() { return geteuid() == 0; }

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  return tmpl;
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void write_file(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string random_fs_uuid(const std::string& fstype) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto hex = [](int n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i) s += digits[rng() % 16];
    return s;
  };
  if (fstype == "vfat" || fstype == "exfat") {
    std::string s = hex(4) + "-" + hex(4);
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  std::string u = hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12);
  return u;
}

LoopDisk::LoopDisk(const std::string& fstype, const std::string& uuid, const std::string& label,
                   int size_mib)
    : fstype_(fstype), uuid_(uuid) {
  const std::string dir = make_temp_dir("ubc-disk");
  image_ = dir + "/disk.img";
  // The destructor does not run when the constructor throws: remove the image here.
  try {
    create(fstype, uuid, label, size_mib);
  } catch (...) {
    remove_tree(dir);
    throw;
  }
}

void LoopDisk::create(const std::string& fstype, const std::string& uuid,
                      const std::string& label, int size_mib) {
  run_ok({"truncate", "-s", std::to_string(size_mib) + "M", image_});
  if (fstype == "ext4") {
    run_ok({"mkfs.ext4", "-q", "-F", "-U", uuid, "-L", label, image_});
  } else if (fstype == "xfs") {
    run_ok({"mkfs.xfs", "-q", "-f", "-m", "uuid=" + uuid, "-L", label, image_});
  } else if (fstype == "btrfs") {
    run_ok({"mkfs.btrfs", "-q", "-f", "-U", uuid, "-L", label, image_});
  } else if (fstype == "vfat") {
    std::string id = uuid;
    id.erase(4, 1);
    run_ok({"mkfs.vfat", "-i", id, "-n", label, image_});
  } else if (fstype == "exfat") {
    std::string id = uuid;
    id.erase(4, 1);
    run_ok({"mkfs.exfat", "-L", label, image_});
    run_ok({"tune.exfat", "-I", "0x" + id, image_});
  } else {
    throw std::runtime_error("LoopDisk: unsupported filesystem " + fstype);
  }
  std::string out = run_ok({"losetup", "-f", "--show", image_});
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  devnode_ = out;
  // Let udev (if one runs) see the new filesystem before tests look it up.
  (void)run({"udevadm", "settle", "-t", "5"});
}

LoopDisk::~LoopDisk() {
  unmount();
  // A test may have left the disk mounted elsewhere: detach every mount of it first.
  std::string mounts;
  if (!devnode_.empty() && run({"findmnt", "-n", "-o", "TARGET", "--source", devnode_}, &mounts) == 0) {
    std::istringstream in(mounts);
    for (std::string target; std::getline(in, target);)
      if (!target.empty()) ::umount2(target.c_str(), MNT_DETACH);
  }
  detach();
  remove_tree(std::filesystem::path(image_).parent_path().string());
}

std::string LoopDisk::mount_for_inspection() {
  if (!inspect_dir_.empty()) return inspect_dir_;
  inspect_dir_ = make_temp_dir("ubc-inspect");
  run_ok({"mount", "-o", "ro", devnode_, inspect_dir_});
  return inspect_dir_;
}

void LoopDisk::unmount() {
  if (inspect_dir_.empty()) return;
  (void)run({"umount", inspect_dir_});
  ::rmdir(inspect_dir_.c_str());
  inspect_dir_.clear();
}

void LoopDisk::detach() {
  if (devnode_.empty()) return;
  (void)run({"losetup", "-d", devnode_});
  devnode_.clear();
}

}  // namespace ubc::test
