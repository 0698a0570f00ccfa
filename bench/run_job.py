#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs one `usb-backup-copier copy` for bench/run and prints what it measured as
key=value pairs: total wall time, the dry run's and the verification's share (from the
moments the job's own log lines arrive, to the millisecond), the copier's own peak RSS
and CPU time (from the preloaded peak_rss.so) and rsync's peak RSS, and the exit code.

usage: run_job.py LOG COPIER ARGS..."""
import os
import subprocess
import sys
import tempfile
import time

MARKS = {
    "dry_start": "Estimating the work with an rsync dry run",
    "dry_end": "To copy: ",
    "copy_start": "Copying ",
    "synced": "Synced the disk's filesystem",
    "verify_start": "Reading back ",
    "verify_end": "Verified: ",
}


def main():
    log_path, argv = sys.argv[1], sys.argv[2:]
    fd, rss_file = tempfile.mkstemp(prefix="ubc-bench-rss.")
    os.close(fd)
    env = dict(os.environ, UBC_BENCH_RSS_FILE=rss_file)
    seen = {}
    start = time.monotonic()
    with open(log_path, "a") as log:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        for raw in child.stdout:
            t = time.monotonic() - start
            line = raw.decode(errors="replace").rstrip("\n")
            log.write("%8.3f %s\n" % (t, line))
            text = line.split(": ", 1)[1] if ": " in line else line
            for key, prefix in MARKS.items():
                if key not in seen and text.startswith(prefix):
                    seen[key] = t
        rc = child.wait()
    total = time.monotonic() - start
    copier_kib, rsync_kib, copier_cpu = 0, 0, 0.0
    if os.path.exists(rss_file):
        with open(rss_file) as f:
            for line in f:
                comm, _pid, kib, cpu = line.split()
                if comm.startswith("usb-backup-cop"):
                    copier_kib = max(copier_kib, int(kib))
                    copier_cpu += float(cpu)
                elif comm == "rsync":
                    rsync_kib = max(rsync_kib, int(kib))
        os.unlink(rss_file)

    def span(a, b):
        return "%.3f" % (seen[b] - seen[a]) if a in seen and b in seen else "-"

    print("rc=%d total=%.3f dry=%s copy=%s verify=%s copier_rss_kib=%d rsync_rss_kib=%d copier_cpu=%.3f" %
          (rc, total, span("dry_start", "dry_end"), span("copy_start", "synced"),
           span("verify_start", "verify_end"), copier_kib, rsync_kib, copier_cpu))


if __name__ == "__main__":
    main()
