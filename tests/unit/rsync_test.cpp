// SPDX-License-Identifier: MIT
// The rsync command line, and the reading of real rsync output recorded by
// fixtures/rsync/capture.sh. The figures below follow from the trees that script builds.
#include "core/rsync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ubc {
namespace {

std::string fixture(const std::string& name) {
  const std::string path = std::string(UBC_FIXTURES_DIR) + "/rsync/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read fixture " << path;
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

std::vector<std::string> fixture_lines(const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream in(fixture(name));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Feeds the output in small pieces that split lines anywhere, as a pipe may.
RsyncOutputReader read_output(const std::string& name, std::size_t piece = 7,
                              FsLimits limits = {}) {
  const std::string out = fixture(name + ".out");
  RsyncOutputReader reader(std::move(limits));
  for (std::size_t i = 0; i < out.size(); i += piece)
    reader.feed(std::string_view(out).substr(i, piece));
  reader.finish();
  return reader;
}

// The config the capture script's runs describe ("@TMP@" stands for its temp directory).
Config capture_config(const std::string& source) {
  Config config;
  config.backup_source = "@TMP@/" + source;
  config.backup_lockfile_path = config.backup_source + "/.usb-backup-copier.lock";
  config.rsync_excludes_file = "@TMP@/excludes";
  config.rsync_log_file_path = "@TMP@/rsync.log";
  return config;
}

Config site_config() {
  Config config;
  config.backup_source = "/srv/veeam";
  config.backup_lockfile_path = "/srv/veeam/.usb-backup-copier.lock";
  config.rsync_excludes_file = "/etc/usb-backup-copier/rsync-excludes";
  config.rsync_log_file_path = "/var/log/usb-backup-copier/rsync.log";
  return config;
}

const std::vector<std::string> kFilterRules{
    "--filter=P /lost+found",
    "--filter=H /lost+found",
    "--filter=P /System Volume Information",
    "--filter=H /System Volume Information",
    "--filter=P /$RECYCLE.BIN",
    "--filter=H /$RECYCLE.BIN",
    "--filter=P /.usb-backup-copier",
    "--filter=H /.usb-backup-copier",
    "--filter=-p .rsync-partial/",
    "--exclude=/.usb-backup-copier.lock",
    "--exclude-from=/etc/usb-backup-copier/rsync-excludes",
    "--log-file=/var/log/usb-backup-copier/rsync.log",
};

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

TEST(RsyncArgv, Ext4DryRunIsTheFullCommandLine) {
  EXPECT_EQ(build_rsync_argv(site_config(), "ext4", "/media/usb-backup", RsyncMode::dry_run),
            concat({{"rsync", "--archive", "--delete-before", "--numeric-ids", "--hard-links"},
                    kFilterRules,
                    {"--stats", "--dry-run", "--out-format=%i %l %n", "/srv/veeam/",
                     "/media/usb-backup/"}}));
}

TEST(RsyncArgv, Ext4CopyIsTheFullCommandLine) {
  EXPECT_EQ(build_rsync_argv(site_config(), "ext4", "/media/usb-backup", RsyncMode::copy),
            concat({{"rsync", "--archive", "--delete-before", "--numeric-ids",
                     "--partial-dir=.rsync-partial", "--hard-links"},
                    kFilterRules,
                    {"--stats", "--info=progress2", "--no-inc-recursive", "/srv/veeam/",
                     "/media/usb-backup/"}}));
}

const std::vector<std::string> kNoOwnership{"--no-owner",   "--no-group",   "--no-perms",
                                            "--no-links",   "--no-devices", "--no-specials",
                                            "--modify-window=2"};

TEST(RsyncArgv, VfatDryRunDropsOwnershipLinksAndHardLinks) {
  EXPECT_EQ(build_rsync_argv(site_config(), "vfat", "/media/usb-backup", RsyncMode::dry_run),
            concat({{"rsync", "--archive", "--delete-before", "--numeric-ids"},
                    kNoOwnership,
                    kFilterRules,
                    {"--stats", "--dry-run", "--out-format=%i %l %n", "/srv/veeam/",
                     "/media/usb-backup/"}}));
}

TEST(RsyncArgv, VfatCopyDropsOwnershipLinksAndHardLinks) {
  EXPECT_EQ(build_rsync_argv(site_config(), "vfat", "/media/usb-backup", RsyncMode::copy),
            concat({{"rsync", "--archive", "--delete-before", "--numeric-ids",
                     "--partial-dir=.rsync-partial"},
                    kNoOwnership,
                    kFilterRules,
                    {"--stats", "--info=progress2", "--no-inc-recursive", "/srv/veeam/",
                     "/media/usb-backup/"}}));
}

TEST(RsyncArgv, IsTheOneTheCapturedRunsUsed) {
  struct Run {
    const char* name;
    const char* fstype;
    const char* source;
    const char* disk;
    RsyncMode mode;
  };
  const Run runs[] = {
      {"dry-run-first", "ext4", "source", "disk", RsyncMode::dry_run},
      {"copy-first", "ext4", "source", "disk", RsyncMode::copy},
      {"dry-run-incremental", "ext4", "source", "disk", RsyncMode::dry_run},
      {"copy-incremental", "ext4", "source", "disk", RsyncMode::copy},
      {"dry-run-unchanged", "ext4", "source", "disk", RsyncMode::dry_run},
      {"nounix-dry-run", "exfat", "nounix-source", "nounix-disk", RsyncMode::dry_run},
      {"nounix-copy", "exfat", "nounix-source", "nounix-disk", RsyncMode::copy},
      {"fat-dry-run", "vfat", "fat-source", "nounix-disk", RsyncMode::dry_run},
      {"fail-missing-source", "ext4", "missing", "disk", RsyncMode::copy},
      {"fail-readonly-disk", "ext4", "nounix-source", "ro-disk", RsyncMode::copy},
  };
  for (const Run& run : runs) {
    auto recorded = fixture_lines(std::string(run.name) + ".argv");
    // Only the capture throttles the first copy, so that progress2 has time to speak.
    std::erase_if(recorded, [](const std::string& a) { return a.starts_with("--bwlimit="); });
    EXPECT_EQ(build_rsync_argv(capture_config(run.source), run.fstype,
                               std::string("@TMP@/") + run.disk, run.mode),
              recorded)
        << run.name;
  }
}

TEST(RsyncArgv, ExcludesALockFileDeeperInTheSourceByItsRelativePath) {
  Config config = site_config();
  config.backup_source = "/srv/veeam/";
  config.backup_lockfile_path = "/srv/veeam//locks/./copier.lock";
  const auto argv = build_rsync_argv(config, "ext4", "/mnt", RsyncMode::copy);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--exclude=/locks/copier.lock"), 1);
  EXPECT_EQ(argv.at(argv.size() - 2), "/srv/veeam/");
}

TEST(RsyncArgv, EscapesWildcardsInTheLockFileName) {
  Config config = site_config();
  config.backup_lockfile_path = "/srv/veeam/lock[1]\\x*.lock";
  const auto argv = build_rsync_argv(config, "ext4", "/mnt", RsyncMode::copy);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--exclude=/lock\\[1]\\\\x\\*.lock"), 1);
}

TEST(RsyncArgv, LeavesOutALockFileOutsideTheSource) {
  for (const char* lock : {"/run/usb-backup-copier/copy.lock", "/srv/veeam-other/x.lock",
                           "/srv/veeam", "/srv/x/../veeam2/y.lock"}) {
    Config config = site_config();
    config.backup_lockfile_path = lock;
    for (const auto& arg : build_rsync_argv(config, "ext4", "/mnt", RsyncMode::copy))
      EXPECT_FALSE(arg.starts_with("--exclude=")) << lock << ": " << arg;
  }
}

TEST(RsyncArgv, LeavesOutTheExcludeFileAndTheLogWhenNotConfigured) {
  Config config = site_config();
  config.rsync_excludes_file.clear();
  config.rsync_log_file_path.clear();
  for (const auto& arg : build_rsync_argv(config, "xfs", "/mnt/", RsyncMode::dry_run)) {
    EXPECT_FALSE(arg.starts_with("--exclude-from")) << arg;
    EXPECT_FALSE(arg.starts_with("--log-file")) << arg;
  }
  EXPECT_EQ(build_rsync_argv(config, "xfs", "/mnt/", RsyncMode::dry_run).back(), "/mnt/");
}

TEST(RsyncArgv, KnowsWhichFilesystemsHoldUnixOwnership) {
  for (const char* fs : {"ext4", "ext3", "ext2", "xfs", "btrfs"})
    EXPECT_TRUE(fs_has_unix_ownership(fs)) << fs;
  for (const char* fs : {"vfat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk"})
    EXPECT_FALSE(fs_has_unix_ownership(fs)) << fs;
}

TEST(RsyncResumeArgv, AppendsToThePartialCopyAndChecksTheWholeFile) {
  EXPECT_EQ(build_resume_argv(site_config(), "ext4", "/srv/veeam/Job/full.vbk",
                              "/media/usb-backup/Job/.rsync-partial/full.vbk"),
            (std::vector<std::string>{"rsync", "--archive", "--numeric-ids", "--append-verify",
                                      "--log-file=/var/log/usb-backup-copier/rsync.log",
                                      "--info=progress2", "/srv/veeam/Job/full.vbk",
                                      "/media/usb-backup/Job/.rsync-partial/full.vbk"}));
}

TEST(RsyncResumeArgv, DropsOwnershipOnFatAndHasNoOptionRsyncRefusesWithAppend) {
  Config config = site_config();
  config.rsync_log_file_path.clear();
  const auto argv = build_resume_argv(config, "exfat", "/srv/a", "/mnt/.rsync-partial/a");
  EXPECT_EQ(argv, (std::vector<std::string>{"rsync", "--archive", "--numeric-ids", "--append-verify",
                                            "--no-owner", "--no-group", "--no-perms", "--no-links",
                                            "--no-devices", "--no-specials", "--modify-window=2",
                                            "--info=progress2", "/srv/a", "/mnt/.rsync-partial/a"}));
  // rsync: "--append cannot be used with --partial-dir" (nor --whole-file, --inplace's kin).
  for (const auto& arg : argv) {
    EXPECT_FALSE(arg.starts_with("--partial-dir")) << arg;
    EXPECT_FALSE(arg.starts_with("--whole-file")) << arg;
    EXPECT_FALSE(arg.starts_with("--delete")) << arg;
  }
}

TEST(RsyncPartialTarget, NamesTheFileAPartialCopyIsTheStartOf) {
  EXPECT_EQ(partial_target(".rsync-partial/full.vbk"), "full.vbk");
  EXPECT_EQ(partial_target("Job/Nightly/.rsync-partial/a b.vib"), "Job/Nightly/a b.vib");
  EXPECT_EQ(partial_target("Job/.rsync-partial/x/.rsync-partial/y"), "Job/.rsync-partial/x/y");
  EXPECT_EQ(partial_target("Job/full.vbk"), std::nullopt);
  EXPECT_EQ(partial_target("Job/.rsync-partial/sub/deeper"), std::nullopt);
  EXPECT_EQ(partial_target("Job/.rsync-partial/"), std::nullopt);
  EXPECT_EQ(partial_target("Job/x.rsync-partial/y"), std::nullopt);
}

// --- Real transcripts ---

// Sizes of the files capture.sh puts in the source.
constexpr std::uint64_t kBig = 209'715'200, kUpdateOld = 3'145'728, kUpdateNew = 5'242'880,
                        kSmallUpdateOld = 10, kSmallUpdateNew = 20, kSmall = 5, kHard = 1000,
                        kLinkText = 9 /* "small.txt" */, kSpaces = 11, kUtf8 = 7,
                        kNewline = 3, kMany = 20 * 100, kToDelete = 8, kOldA = 9, kOldB = 10,
                        kDeletedUtf8 = 4, kNewFile = 8'388'608;

TEST(RsyncTranscript, FirstDryRunCountsEverythingAsNew) {
  const auto reader = read_output("dry-run-first");
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value()) << reader.text();
  // 33 regular files, 6 directories (the root included), 1 symlink; the lock file, the
  // excluded *.tmp and the hidden .usb-backup-copier/ and lost+found/ are not counted.
  EXPECT_EQ(stats->files_total, 40u);
  EXPECT_EQ(stats->regular_files_transferred, 32u);  // the second hard link is a link
  EXPECT_EQ(stats->files_deleted, 0u);
  const std::uint64_t total = kBig + kUpdateOld + kSmallUpdateOld + kSmall + 2 * kHard +
                              kLinkText + kSpaces + kUtf8 + kNewline + kMany + kToDelete +
                              kOldA + kOldB + kDeletedUtf8;
  EXPECT_EQ(stats->total_file_size, total);
  EXPECT_EQ(stats->transferred_file_size, total - kHard - kLinkText);
  EXPECT_TRUE(reader.deleted_paths().empty());
  EXPECT_EQ(reader.largest_updated_file(), 0u);  // nothing replaces an existing file
  EXPECT_EQ(reader.skipped_non_regular(), 0u);
  EXPECT_EQ(reader.text().find("big.bin"), std::string::npos) << "itemized lines are not text";
}

TEST(RsyncTranscript, IncrementalDryRunFindsDeletionsAndTheLargestUpdate) {
  const auto reader = read_output("dry-run-incremental");
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value()) << reader.text();
  EXPECT_EQ(stats->files_total, 35u);  // 4 files gone, 1 new, 2 directories gone
  EXPECT_EQ(stats->regular_files_transferred, 3u);
  EXPECT_EQ(stats->files_deleted, 7u);  // 5 files and 2 directories
  EXPECT_EQ(stats->transferred_file_size, kNewFile + kUpdateNew + kSmallUpdateNew);

  // Captured in the C locale: "ö" arrives as \#303\#266, the newline as \#012. The
  // protected entries of the disk are not among them; "stale only on disk.txt" is.
  auto deleted = reader.deleted_paths();
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"gel\xC3\xB6scht\nzwei.txt", "old dir/a.txt",
                                               "old dir/sub/b.txt", "stale only on disk.txt",
                                               "to-delete.txt"}));
  // The new 8 MiB file needs no room beside an old version; the 5 MiB update does.
  EXPECT_EQ(reader.largest_updated_file(), kUpdateNew);
}

TEST(RsyncTranscript, UnchangedDryRunHasNothingToTransfer) {
  const auto reader = read_output("dry-run-unchanged");
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->files_total, 35u);
  EXPECT_EQ(stats->transferred_file_size, 0u);
  EXPECT_EQ(stats->regular_files_transferred, 0u);
  EXPECT_EQ(stats->files_deleted, 0u);
  EXPECT_TRUE(reader.deleted_paths().empty());
}

TEST(RsyncTranscript, CopyProgressClimbsToTheTransferredSize) {
  const std::string out = fixture("copy-first.out");
  RsyncOutputReader reader;
  std::vector<ProgressSample> samples;
  for (char c : out) {  // one byte at a time: the hardest split there is
    reader.feed(std::string_view(&c, 1));
    if (auto s = reader.take_progress()) samples.push_back(*s);
  }
  reader.finish();
  ASSERT_FALSE(samples.empty());
  for (std::size_t i = 1; i < samples.size(); ++i)
    EXPECT_GE(samples[i].bytes, samples[i - 1].bytes) << i;
  // --bwlimit made the 200 MiB file take seconds: several lines before it completed.
  const auto before_first_file = std::count_if(
      samples.begin(), samples.end(), [](const auto& s) { return s.files_transferred == 0; });
  EXPECT_GE(before_first_file, 4);
  EXPECT_EQ(samples.front().bytes, 32768u);
  EXPECT_EQ(samples.back().files_transferred, 32u);
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value()) << reader.text();
  EXPECT_EQ(samples.back().bytes, stats->transferred_file_size);
  EXPECT_EQ(reader.text().find("xfr#"), std::string::npos) << "progress is not text";
}

TEST(RsyncTranscript, TakeProgressGivesOnlyTheNewestSampleOnce) {
  const auto reader_const = read_output("copy-incremental", 4096);
  RsyncOutputReader reader = reader_const;
  const auto last = reader.take_progress();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->bytes, kNewFile + kUpdateNew + kSmallUpdateNew);
  EXPECT_EQ(last->files_transferred, 3u);
  EXPECT_FALSE(reader.take_progress().has_value());
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->files_deleted, 7u);
}

TEST(RsyncTranscript, NoOwnershipRunsSkipSymlinksAndFifosAndCopyHardLinksTwice) {
  for (const char* run : {"nounix-dry-run", "nounix-copy"}) {
    const auto reader = read_output(run);
    // lnk, d/dangling and fifo.
    EXPECT_EQ(reader.skipped_non_regular(), 3u) << run;
    EXPECT_EQ(reader.text().find("skipping"), std::string::npos) << run;
    const auto stats = parse_rsync_stats(reader.text());
    ASSERT_TRUE(stats.has_value()) << run;
    EXPECT_EQ(stats->files_total, 8u) << run;
    EXPECT_EQ(stats->regular_files_transferred, 3u) << run;  // a.txt, b.txt, d/data.bin
    EXPECT_EQ(stats->transferred_file_size, 3u + 3u + 4096u) << run;
    // Plus the link texts "a.txt" and "/nonexistent".
    EXPECT_EQ(stats->total_file_size, 3u + 3u + 4096u + 5u + 12u) << run;
    EXPECT_EQ(fixture(std::string(run) + ".rc"), "0\n");
  }
}

TEST(RsyncTranscript, AFatDryRunListsWhatFatCannotStore) {
  const auto reader = read_output("fat-dry-run", 7, fs_limits("vfat"));
  const auto& bad = reader.unstorable();
  // fine.txt, bad?dir/inside.txt (its directory is listed) and the 4 GiB - 1 byte file fit.
  EXPECT_EQ(bad.count(), 6u);
  EXPECT_TRUE(bad.too_large_seen());
  EXPECT_EQ(bad.listed(),
            (std::vector<std::string>{
                "'colon:name.txt' (':' is not allowed)",
                "'ctrl\\x01char' (control character \\x01 is not allowed)",
                "'huge.vbk' (5.00 GiB; vfat holds files up to 4 GiB - 1 byte)",
                "'trailing dot.' (ends in a dot)",
                "'trailing space ' (ends in a space)",
                "'bad?dir/' ('?' is not allowed)"}));
  // The deletions are still read, and the statistics with them.
  EXPECT_EQ(reader.deleted_paths().size(), 3u);
  const auto stats = parse_rsync_stats(reader.text());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->transferred_file_size, 9'663'676'422u);
}

TEST(RsyncTranscript, AFatDryRunCannotLookUpANameThatIsNotUtf8) {
  // exfat-fuse (like the kernel's drivers) refuses the lookup itself: rsync names the file
  // in an error and exits 23, and the job stops on that before anything is written.
  EXPECT_EQ(fixture("fat-dry-run.rc"), "23\n");
  const auto lines = last_error_lines(fixture("fat-dry-run.err"), 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("latin1-\\#351.txt"), std::string::npos) << lines[0];
}

TEST(RsyncTranscript, ReadsNoLimitsIntoADryRunOntoExt4) {
  const auto reader = read_output("fat-dry-run", 7, fs_limits("ext4"));
  EXPECT_EQ(reader.unstorable().count(), 0u);
}

TEST(RsyncOutputReader, KeepsItsLimitsWhenADryRunStartsOver) {
  RsyncOutputReader reader(fs_limits("exfat"));
  reader.feed(">f+++++++++ 1 a:b\n");
  EXPECT_EQ(reader.unstorable().count(), 1u);
  reader.restart();
  EXPECT_EQ(reader.unstorable().count(), 0u);
  reader.feed(">f+++++++++ 1 c|d\n*deleting   0 e:f\n.d..t...... 4096 ./\n");
  EXPECT_EQ(reader.unstorable().count(), 1u) << "deletions and the root are not judged";
}

TEST(RsyncTranscript, AMissingSourceEndsInExitCode23AndSaysWhy) {
  EXPECT_EQ(fixture("fail-missing-source.rc"), "23\n");
  EXPECT_EQ(rsync_exit_meaning(23), "Partial transfer due to error (23)");
  const auto lines = last_error_lines(fixture("fail-missing-source.err"), 5);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "rsync: [sender] change_dir \"@TMP@/missing\" failed: No such file or directory (2)");
  EXPECT_TRUE(lines[1].starts_with("rsync error: some files/attrs were not transferred"))
      << lines[1];
  const auto stats = parse_rsync_stats(read_output("fail-missing-source").text());
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->files_total, 0u);
}

TEST(RsyncTranscript, AReadOnlyDiskEndsInExitCode23WithTheErrno) {
  EXPECT_EQ(fixture("fail-readonly-disk.rc"), "23\n");
  const auto lines = last_error_lines(fixture("fail-readonly-disk.err"), 2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("Read-only file system (30)"), std::string::npos) << lines[0];
  EXPECT_TRUE(lines[1].starts_with("rsync error:")) << lines[1];
}

// --- Synthetic lines: the forms the transcripts above do not show ---

TEST(RsyncProgressLine, ReadsTheFormsProgress2Prints) {
  auto s = parse_progress_line("  1,234,567  12%   1.23MB/s    0:00:01 (xfr#3, to-chk=10/20)");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->bytes, 1234567u);
  EXPECT_EQ(s->percent, 12);
  EXPECT_EQ(s->files_transferred, 3u);

  s = parse_progress_line("     98,304,000   4%   93.75MB/s    0:00:24 (xfr#1, ir-chk=1000/1021)");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->bytes, 98304000u);

  s = parse_progress_line("  5,000,000,000,000  100%    1.02GB/s  123:45:06  ");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->bytes, 5'000'000'000'000u);
  EXPECT_EQ(s->percent, 100);
  EXPECT_EQ(s->files_transferred, 0u);

  // rsync cannot tell the time left yet; a locale with a decimal comma swaps separators.
  s = parse_progress_line("     32.768   0%    0,00kB/s    ??:??:??  ");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->bytes, 32768u);
}

TEST(RsyncProgressLine, RejectsWhatIsNotProgress) {
  for (const char* line :
       {"Number of files: 40 (reg: 33, dir: 6, link: 1)", ">f+++++++++ 100 many/file-01",
        "sent 946 bytes  received 151 bytes  2,194.00 bytes/sec", "", "   ",
        "  1,234  120%   1.23MB/s    0:00:01", "  1,234  12%   1.23MB/s", "12% 1.23MB/s 0:00:01",
        "  1,234  12%   fast    0:00:01", "  1,234  12%   1.23MB/s    0:00:01 (something else)"})
    EXPECT_FALSE(parse_progress_line(line).has_value()) << '"' << line << '"';
}

TEST(RsyncStats, IsAbsentFromTextWithoutAStatsBlock) {
  EXPECT_FALSE(parse_rsync_stats("").has_value());
  EXPECT_FALSE(parse_rsync_stats("rsync error: error in file IO (code 11)\n").has_value());
}

TEST(RsyncStats, ReadsTheBlockWithCarriageReturnsAndSkipsTotalBytesSent) {
  const auto stats = parse_rsync_stats(
      "noise\r\nNumber of files: 1,234 (reg: 1,000, dir: 234)\r\n"
      "Number of deleted files: 12 (reg: 10, dir: 2)\r\n"
      "Number of regular files transferred: 999\r\nTotal file size: 7,654,321 bytes\r\n"
      "Total transferred file size: 54,321 bytes\r\nTotal bytes sent: 99,999,999\r\n");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->files_total, 1234u);
  EXPECT_EQ(stats->files_deleted, 12u);
  EXPECT_EQ(stats->regular_files_transferred, 999u);
  EXPECT_EQ(stats->total_file_size, 7654321u);
  EXPECT_EQ(stats->transferred_file_size, 54321u);
}

TEST(RsyncOutputReader, UnescapesNamesAndKeepsLeadingSpaces) {
  RsyncOutputReader reader;
  reader.feed("*deleting   0   lead.txt\n*deleting   0 back\\#134#123slash\n");
  reader.feed("*deleting   0 plain\\back\n*deleting   0 \\#377\\#376bad\n");
  reader.feed("*deleting   0 a\\#01\n*deleting   0 gone dir/\n");
  EXPECT_EQ(reader.deleted_paths(),
            (std::vector<std::string>{"  lead.txt", "back\\#123slash", "plain\\back",
                                      "\xFF\xFE" "bad", "a\\#01"}));
  EXPECT_TRUE(reader.text().empty()) << reader.text();
}

TEST(RsyncOutputReader, CountsOnlyReplacedRegularFilesAsUpdates) {
  RsyncOutputReader reader;
  reader.feed(">f+++++++++ 900 new.bin\n>f..t...... 300 touched.bin\n");
  reader.feed(">f.s....... 200 grown.bin\n.f...p..... 800 attrs-only.bin\n");
  reader.feed("cL+++++++++ 999 link\nhf+++++++++ 999 hard\n.d..t...... 4096 ./\n");
  EXPECT_EQ(reader.largest_updated_file(), 300u);
  EXPECT_TRUE(reader.deleted_paths().empty());
}

TEST(RsyncOutputReader, EndsLinesAtCarriageReturnOrNewlineAndFinishesTheLast) {
  RsyncOutputReader reader;
  reader.feed("created directory /mnt/x\r\nskipping non-regular");
  reader.feed(" file \"a\"\n\rNumber of files: 3\nTotal transferred file size: 1");
  EXPECT_FALSE(parse_rsync_stats(reader.text()).has_value());
  reader.feed("2");
  reader.finish();
  EXPECT_EQ(reader.skipped_non_regular(), 1u);
  EXPECT_EQ(reader.text(),
            "created directory /mnt/x\nNumber of files: 3\nTotal transferred file size: 12\n");
  ASSERT_TRUE(parse_rsync_stats(reader.text()).has_value());
  EXPECT_EQ(parse_rsync_stats(reader.text())->transferred_file_size, 12u);
}

TEST(RsyncExitMeaning, NamesRsyncsCodesAndSignals) {
  EXPECT_EQ(rsync_exit_meaning(0), "Success (0)");
  EXPECT_EQ(rsync_exit_meaning(24), "Partial transfer due to vanished source files (24)");
  EXPECT_EQ(rsync_exit_meaning(20), "Received SIGINT, SIGTERM, or SIGHUP (20)");
  EXPECT_EQ(rsync_exit_meaning(143), "rsync was killed by signal 15 (143)");
  EXPECT_EQ(rsync_exit_meaning(99), "Unknown rsync exit code (99)");
}

TEST(RsyncErrorLines, KeepsTheLastLinesThatSaySomething) {
  EXPECT_EQ(last_error_lines("a\n\n  b  \r\n\nc\n   \n", 2), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(last_error_lines("only\n", 5), (std::vector<std::string>{"only"}));
  EXPECT_TRUE(last_error_lines("\n\n", 5).empty());
}

}  // namespace
}  // namespace ubc
