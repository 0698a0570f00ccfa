#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Makes bench/run's source trees: `big DIR MiB,MiB,...` (Veeam-like: a few big files, a
chain of increments and a metadata file) or `small DIR COUNT` (COUNT files of 0-8 KiB in
nested directories). The data is random, so that nothing compresses or deduplicates."""
import os
import random
import subprocess
import sys


def random_file(path, size):
    # AES-CTR of zeros: incompressible and many times faster than /dev/urandom.
    with open(path, "wb") as out:
        gen = subprocess.Popen(["openssl", "enc", "-aes-128-ctr", "-nosalt", "-pass",
                                "pass:" + os.path.basename(path), "-in", "/dev/zero"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        left = size
        while left > 0:
            chunk = gen.stdout.read(min(left, 4 << 20))
            out.write(chunk)
            left -= len(chunk)
        gen.kill()
        gen.wait()


def big(root, sizes_mib):
    job = os.path.join(root, "Backup Job Nightly")
    os.makedirs(job)
    for i, mib in enumerate(sizes_mib):
        name = "Nightly2026-11-%02dT220000_F%d.vbk" % (i + 1, i) if i == 0 else \
               "Nightly2026-11-%02dT220000_%d.vib" % (i + 1, i)
        random_file(os.path.join(job, name), mib << 20)
    with open(os.path.join(job, "Backup Job Nightly.vbm"), "w") as f:
        f.write("<BackupMeta/>\n" * 2000)


def small(root, count):
    rnd = random.Random(12)
    pool = os.urandom(1 << 20)
    per_dir = 500
    for n in range(count):
        d = os.path.join(root, "project%02d" % (n // (per_dir * 20)),
                         "dir%02d" % ((n // per_dir) % 20))
        if n % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        size = rnd.randrange(0, 8192)
        start = rnd.randrange(0, len(pool) - size)
        with open(os.path.join(d, "file%06d.dat" % n), "wb") as f:
            f.write(pool[start:start + size])


if __name__ == "__main__":
    kind, root, spec = sys.argv[1:4]
    if kind == "big":
        big(root, [int(x) for x in spec.split(",")])
    else:
        small(root, int(spec))
