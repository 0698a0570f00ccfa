#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns bench/run's measurements into a Markdown report: medians, ratios beside the
targets of DESIGN.md section 11, the disk's raw speed, the pause for Veeam, every round.

usage: summarize.py [--into RESULTS.md] META RESULTS.TSV
With --into, the report replaces what stands between the bench/run markers in that file
(the rest of it, the analysis, is kept)."""
import statistics
import sys

BEGIN, END = "<!-- bench/run: begin -->", "<!-- bench/run: end -->"
MIB = 1 << 20


def load(meta_path, tsv_path):
    meta = {}
    with open(meta_path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            meta[key] = value
    rows = []
    with open(tsv_path) as f:
        for line in f:
            fields = line.split()
            extra = dict(kv.split("=", 1) for kv in fields[4:] if "=" in kv)
            rows.append({"tree": fields[0], "kind": fields[1], "round": int(fields[2]),
                         "seconds": float(fields[3]), **extra})
    return meta, rows


def median(rows, tree, kind, key="seconds"):
    values = [float(r[key]) for r in rows if r["tree"] == tree and r["kind"] == kind
              and key in r and r[key] != "-"]
    return statistics.median(values) if values else None


def peak(rows, tree, key):
    values = [int(r[key]) for r in rows if r["tree"] == tree and key in r]
    return max(values) if values else None


def fmt(x, unit=" s", digits=2):
    return "–" if x is None else ("%.*f%s" % (digits, x, unit))


def verdict(value, limit, at_least=False):
    if value is None:
        return "–"
    ok = value >= limit if at_least else value <= limit
    return "met" if ok else "**missed**"


def report(meta, rows):
    out = []
    add = out.append
    tree_bytes = {t: int(meta["tree_" + t].split()[0]) for t in ("big", "small")}
    add("Run: %s mode, %s rounds, %s to %s." % (
        meta["mode"], max(r["round"] for r in rows), meta["started"], meta["finished"]))
    add("")
    add("Machine: %s cores %s, %s memory, kernel %s; image files on %s; %s; %s." % (
        meta["cores"].split()[0], meta["cores"].split(" ", 1)[1], meta["memory"], meta["kernel"],
        meta["under_images"], meta["rsync"], meta["copier"]))
    add("")
    add("Load average (1/5/15 min) at the start: %s; at the end: %s." % (meta["load_start"], meta["load_end"]))
    add("")
    add("Trees: big files %s; many small files %s." % (meta["tree_big"], meta["tree_small"]))
    add("")
    dd_bytes = int(meta["dd_bytes"])
    dd_w = dd_bytes / float(meta["dd_write_s"])
    dd_r = dd_bytes / float(meta["dd_read_s"])
    add("Disk (loop device, `dd bs=4M` with `oflag=direct` / `iflag=direct`, %d MiB): "
        "sequential write %.0f MiB/s, read %.0f MiB/s." % (dd_bytes // MIB, dd_w / MIB, dd_r / MIB))
    add("")
    sha = int(meta["sha256_bytes_per_s"]) if meta.get("sha256_bytes_per_s") else None
    if sha:
        add("SHA-256 on one core (`openssl speed -evp sha256`, 512 KiB blocks): %.0f MiB/s. The verification "
            "hashes a file on one core, so it cannot read faster than this, whatever the disk." % (sha / MIB))
        add("")
    add("| measurement (median) | big files | many small files | target | big | small |")
    add("|---|---|---|---|---|---|")

    def line(label, values, target="", verdicts=("", "")):
        add("| %s | %s | %s | %s | %s | %s |" % (label, values[0], values[1], target, *verdicts))

    m = {t: {k: median(rows, t, k) for k in ("plain_fresh", "plain_rerun", "job_fresh", "job_rerun", "job_verify")}
         for t in ("big", "small")}
    line("plain `rsync -a` + umount, fresh disk", [fmt(m[t]["plain_fresh"]) for t in ("big", "small")])
    line("job, verify = none, fresh disk", [fmt(m[t]["job_fresh"]) for t in ("big", "small")])
    ratio = {t: m[t]["job_fresh"] / m[t]["plain_fresh"] for t in ("big", "small")}
    line("**ratio job / rsync**", [fmt(ratio[t], "", 3) for t in ("big", "small")], "≤ 1.05 big, ≤ 1.25 small",
         (verdict(ratio["big"], 1.05), verdict(ratio["small"], 1.25)))
    line("plain `rsync -a` + umount, unchanged re-run", [fmt(m[t]["plain_rerun"]) for t in ("big", "small")])
    line("job, unchanged re-run", [fmt(m[t]["job_rerun"]) for t in ("big", "small")])
    rerun = {t: m[t]["job_rerun"] / m[t]["plain_rerun"] for t in ("big", "small")}
    line("**ratio re-run job / rsync**", [fmt(rerun[t], "", 3) for t in ("big", "small")], "≤ 1.2",
         (verdict(rerun["big"], 1.2), verdict(rerun["small"], 1.2)))
    dry = {t: median(rows, t, "job_fresh", "dry") for t in ("big", "small")}
    line("dry run in the fresh job (share of the job)",
         ["%s (%.0f %%)" % (fmt(dry[t]), 100 * dry[t] / m[t]["job_fresh"]) if dry[t] is not None else "–"
          for t in ("big", "small")])
    dry_rerun = {t: median(rows, t, "job_rerun", "dry") for t in ("big", "small")}
    line("dry run in the re-run (share of the re-run)",
         ["%s (%.0f %%)" % (fmt(dry_rerun[t]), 100 * dry_rerun[t] / m[t]["job_rerun"])
          if dry_rerun[t] is not None else "–" for t in ("big", "small")])
    line("job, verify = written, fresh disk", [fmt(m[t]["job_verify"]) for t in ("big", "small")])
    line("verification's own cost (written − none)",
         [fmt(m[t]["job_verify"] - m[t]["job_fresh"]) for t in ("big", "small")])
    vsec = {t: median(rows, t, "job_verify", "verify") for t in ("big", "small")}
    rate = {t: tree_bytes[t] / vsec[t] if vsec[t] else None for t in ("big", "small")}
    line("verification read rate (bytes / time of its phase)",
         [fmt(rate[t] / MIB if rate[t] else None, " MiB/s", 0) for t in ("big", "small")])
    frac = {t: rate[t] / dd_r if rate[t] else None for t in ("big", "small")}
    line("**verification rate / disk sequential read**", [fmt(frac[t], "", 2) for t in ("big", "small")],
         "≥ 0.8 (big files)", (verdict(frac["big"], 0.8, at_least=True), ""))
    if sha:
        line("verification rate / SHA-256 on one core, for comparison",
             [fmt(rate[t] / sha if rate[t] else None, "", 2) for t in ("big", "small")])
    rss = {t: peak(rows, t, "copier_rss_kib") for t in ("big", "small")}
    line("**copier's own peak RSS** (max of all its runs)",
         [fmt(rss[t] / 1024 if rss[t] else None, " MiB", 1) for t in ("big", "small")], "≤ 16 MiB",
         (verdict(rss["big"] / 1024, 16), verdict(rss["small"] / 1024, 16)))
    cpu = {t: median(rows, t, "job_fresh", "copier_cpu") for t in ("big", "small")}
    line("copier's own CPU time in the fresh job", [fmt(cpu[t]) for t in ("big", "small")])
    rrss = {t: peak(rows, t, "rsync_rss_kib") for t in ("big", "small")}
    line("rsync's peak RSS, for comparison", [fmt(rrss[t] / 1024 if rrss[t] else None, " MiB", 1)
                                             for t in ("big", "small")])
    add("")
    if "resume_file_bytes" in meta:
        size = int(meta["resume_file_bytes"])
        partial = int(meta["resume_partial_bytes"])
        written = int(meta["resume_written_bytes"])
        add("Pause for Veeam half-way through a %.0f MiB file: %.0f MiB were on the disk (in rsync's "
            "partial dir) when the copy paused; after `veeam-unlock` the resumed job wrote %.0f MiB "
            "(%.0f %% of the file) and took %.2f s to the end of the job." % (
                size / MIB, partial / MIB, written / MIB, 100.0 * written / size, float(meta["resume_seconds"])))
        add("")
    add("Every round (seconds; dry run, copy and verification phases from the job's log):")
    add("")
    add("| tree | run | round | total | dry run | copy | verify | copier RSS KiB | rsync RSS KiB |")
    add("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        add("| %s | %s | %d | %.3f | %s | %s | %s | %s | %s |" % (
            r["tree"], r["kind"], r["round"], r["seconds"], r.get("dry", ""), r.get("copy", ""),
            r.get("verify", ""), r.get("copier_rss_kib", ""), r.get("rsync_rss_kib", "")))
    return "\n".join(out) + "\n"


def main():
    args = sys.argv[1:]
    into = None
    if args[0] == "--into":
        into, args = args[1], args[2:]
    text = report(*load(*args))
    if into is None:
        sys.stdout.write(text)
        return
    try:
        with open(into) as f:
            old = f.read()
    except FileNotFoundError:
        old = "# Benchmark results\n\n%s\n%s\n" % (BEGIN, END)
    head, _, rest = old.partition(BEGIN)
    _, _, tail = rest.partition(END)
    with open(into, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)


if __name__ == "__main__":
    main()
