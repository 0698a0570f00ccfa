// SPDX-License-Identifier: MIT
// Everything the job touches outside itself. main() fills this with the real adapters of
// src/sys; unit tests with the fakes of tests/unit/fakes.
#pragma once

#include "ports/clock.h"
#include "ports/device_finder.h"
#include "ports/encrypted_volumes.h"
#include "ports/enrollment_store.h"
#include "ports/file_hasher.h"
#include "ports/file_system.h"
#include "ports/history.h"
#include "ports/inhibitor.h"
#include "ports/mailer.h"
#include "ports/mounter.h"
#include "ports/pinger.h"
#include "ports/process_runner.h"
#include "ports/run_lock.h"
#include "ports/status_sink.h"
#include "ports/veeam_gate.h"

namespace ubc {

struct Ports {
  DeviceFinder& devices;
  Mounter& mounter;
  RunLock& run_lock;
  JobSlots& slots;
  VeeamGate& veeam;
  ProcessRunner& processes;
  FileSystem& fs;
  FileHasher& hasher;
  StatusSink& status;
  History& history;
  Mailer& mailer;
  Inhibitor& inhibitor;
  Clock& clock;
  StopSignal& stop;
  Pinger& pinger;
  EnrollmentStore& enrollment;
  EncryptedVolumes& volumes;
};

}  // namespace ubc
