// SPDX-License-Identifier: MIT
// A Job wired to fakes, and rsync output as the real rsync prints it.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "core/disk_state.h"
#include "core/job.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_device_finder.h"
#include "fakes/fake_enrollment_store.h"
#include "fakes/fake_file_hasher.h"
#include "fakes/fake_file_system.h"
#include "fakes/fake_mounter.h"
#include "fakes/fake_encrypted_volumes.h"
#include "fakes/fake_pinger.h"
#include "fakes/fake_process_runner.h"
#include "fakes/fake_recorders.h"
#include "fakes/fake_run_lock.h"
#include "fakes/fake_veeam_gate.h"

namespace ubc::test {

inline constexpr const char* kUuid = "0a1b2c3d-1111-4222-8333-444455556666";
inline constexpr const char* kDev = "/dev/sdb1";
inline constexpr const char* kSource = "/srv/veeam";
inline constexpr const char* kMount = "/media/usb-backup-copier";

// The dry run's itemized lines and --stats block for `files` new files of `size` bytes.
std::string dry_run_output(int files, std::uint64_t size, int deleted = 0,
                           std::uint64_t updated_size = 0);
// A copy's progress2 lines up to `total` bytes in `steps` steps, then its --stats block.
std::vector<ScriptedRun::Chunk> copy_chunks(std::uint64_t total, int files, int steps = 4);
ScriptedRun dry_run(int files, std::uint64_t size, int deleted = 0, std::uint64_t updated_size = 0);
ScriptedRun copy_run(std::uint64_t total, int files);

class JobTest : public ::testing::Test {
 protected:
  JobTest();

  JobReport run_job(JobRequest request = {JobRequest::By::device, kDev, false});
  // The disk's files (relative path -> content), as left after the job.
  const std::map<std::string, std::string>& disk() { return mounter_.disks_[kDev]; }
  std::optional<DiskState> disk_state();
  // A complete restore point on the disk, with its record and manifest (stamps: the
  // contents' sizes, time 0).
  void point_on_disk(const std::string& name, const std::map<std::string, std::string>& files);
  bool logged(const std::string& text, const JobReport& report) const;
  void expect_undone(const JobReport& report);

  Config config_;
  FakeClock clock_;
  FakeStopSignal stop_;
  FakePinger pinger_;
  FakeEncryptedVolumes volumes_;
  FakeDeviceFinder devices_;
  FakeFileSystem fs_;
  FakeMounter mounter_{fs_};
  FakeFileHasher hasher_{fs_};
  FakeRunLock run_lock_;
  FakeJobSlots slots_;
  FakeVeeamGate veeam_;
  FakeProcessRunner processes_{clock_};
  FakeStatusSink status_;
  FakeHistory history_;
  FakeMailer mailer_;
  FakeInhibitor inhibitor_;
  FakeEnrollmentStore enrollment_;
  std::unique_ptr<Ports> ports_;
};

}  // namespace ubc::test
