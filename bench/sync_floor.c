// sync_floor: how long a record written at a steady rate waits for the fdatasync that covers
// it, on this machine's disk with no broker at all. One thread appends a record to a file at
// the rate given, as the broker appends each acks=all produce request; another thread syncs the
// file whenever it holds unsynced records, so each sync covers every record written while the
// one before it ran (group commit, as the broker's Flusher does). A record's wait runs from the
// end of its write(2) to the end of that sync. Its percentiles are the floor under the broker's
// acks=all latency: what is left once the network, the client and the broker are taken away.
// Prints one JSON line:
// {"ok":true,"p50_ms":...,"p99_ms":...,"p999_ms":...,"max_ms":...,"syncs_per_s":...}.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perf/perf.h"

struct shared {
  pthread_mutex_t mu;
  pthread_cond_t more;  // the writer wrote while the syncer had nothing to do
  int fd;
  long records;
  int64_t* written_at;  // per record: when its write returned
  int64_t* synced_at;   // per record: when the sync that covers it returned
  long written;         // records written so far (guarded by mu)
  int failed_errno;     // a failed fdatasync ends the run
  long syncs;
};

static void* syncer(void* arg) {
  struct shared* s = arg;
  long covered = 0;
  while (covered < s->records) {
    pthread_mutex_lock(&s->mu);
    while (s->written == covered) pthread_cond_wait(&s->more, &s->mu);
    const long upto = s->written;
    pthread_mutex_unlock(&s->mu);
    if (fdatasync(s->fd) != 0) {
      s->failed_errno = errno;
      return NULL;
    }
    const int64_t done = mono_ns();
    for (long i = covered; i < upto; ++i) s->synced_at[i] = done;
    covered = upto;
    ++s->syncs;
  }
  return NULL;
}

static int cmp_i64(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: sync_floor DIR RECORDS_PER_S RECORD_BYTES SECONDS\n");
    return 1;
  }
  const double rate = atof(argv[2]);
  const int size = atoi(argv[3]);
  const double seconds = atof(argv[4]);
  if (rate <= 0 || size <= 0 || seconds <= 1) {
    fprintf(stderr, "sync_floor: rate and size must be positive, seconds above 1\n");
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/sync-floor.%d", argv[1], (int)getpid());
  struct shared s = {.mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};
  s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (s.fd < 0) die("open", strerror(errno));
  unlink(path);  // gone when we exit, whatever happens
  s.records = (long)(rate * seconds);
  s.written_at = calloc((size_t)s.records, sizeof(int64_t));
  s.synced_at = calloc((size_t)s.records, sizeof(int64_t));
  char* record = malloc((size_t)size);
  if (s.written_at == NULL || s.synced_at == NULL || record == NULL) die("calloc", strerror(errno));
  for (int i = 0; i < size; ++i) record[i] = (char)(i * 131 + 7);

  pthread_t thread;
  const int created = pthread_create(&thread, NULL, syncer, &s);
  if (created != 0) die("pthread_create", strerror(created));
  const int64_t start = mono_ns();
  for (long i = 0; i < s.records; ++i) {
    const int64_t due = start + (int64_t)((double)i * 1e9 / rate);
    const struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    if (write(s.fd, record, (size_t)size) != size) die("write", strerror(errno));
    s.written_at[i] = mono_ns();
    pthread_mutex_lock(&s.mu);
    s.written = i + 1;
    pthread_cond_signal(&s.more);
    pthread_mutex_unlock(&s.mu);
  }
  pthread_join(thread, NULL);
  if (s.failed_errno != 0) die("fdatasync", strerror(s.failed_errno));
  const double elapsed_s = (double)(mono_ns() - start) / 1e9;

  // The first second is left out, as in the latency runs it stands beside.
  const long first = (long)rate < s.records ? (long)rate : 0;
  const long n = s.records - first;
  int64_t* wait = malloc((size_t)n * sizeof(int64_t));
  if (wait == NULL) die("malloc", strerror(errno));
  for (long i = 0; i < n; ++i) wait[i] = s.synced_at[first + i] - s.written_at[first + i];
  qsort(wait, (size_t)n, sizeof(int64_t), cmp_i64);
  printf(
      "{\"ok\":true,\"records\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
      "\"max_ms\":%.3f,\"syncs_per_s\":%.0f}\n",
      n, (double)wait[n / 2] / 1e6, (double)wait[n * 99 / 100] / 1e6,
      (double)wait[n * 999 / 1000] / 1e6, (double)wait[n - 1] / 1e6, (double)s.syncs / elapsed_s);
  return 0;
}
