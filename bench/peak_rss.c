// SPDX-License-Identifier: MIT
// Preloaded into the copier by bench/run: at exit every process appends
// "comm pid maxrss_kib cpu_seconds" to $UBC_BENCH_RSS_FILE. getrusage(RUSAGE_SELF) is the process's own high-water mark, so
// the copier's line does not include rsync's memory (rsync, also preloaded, writes its own).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

__attribute__((destructor)) static void ubc_bench_report_peak_rss(void) {
  const char* out = getenv("UBC_BENCH_RSS_FILE");
  if (out == NULL) return;
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return;
  char comm[64] = "?";
  FILE* f = fopen("/proc/self/comm", "re");
  if (f != NULL) {
    if (fgets(comm, sizeof comm, f) != NULL) comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
  }
  FILE* o = fopen(out, "ae");
  if (o == NULL) return;
  const double cpu = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  fprintf(o, "%s %d %ld %.3f\n", comm, (int)getpid(), usage.ru_maxrss, cpu);
  fclose(o);
}
