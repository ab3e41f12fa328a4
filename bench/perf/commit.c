// Commit mode: many groups, one consumer each, committing explicit offsets synchronously as
// fast as they can for a fixed time; OffsetCommit throughput and latency.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf.h"

typedef struct {
  const Options* o;
  int index;
  pthread_t thread;
  int64_t* lat_ns;  // one per timed commit, grown as needed
  long count, cap, errors;
  rd_kafka_resp_err_t first_error;
} Committer;

typedef struct {
  atomic_int ready;      // committers that finished their untimed first commit
  atomic_long start_ns;  // 0 until main starts the clock
  atomic_long end_ns;
  atomic_int warm_failed;
} Shared;

static Shared shared;

static rd_kafka_resp_err_t commit_once(rd_kafka_t* rk, const Options* o, int partition,
                                       long offset) {
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, o->topic, partition)->offset = offset;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk, offsets, 0);
  // A request-level success can still carry a per-partition error.
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = offsets->elems[0].err;
  rd_kafka_topic_partition_list_destroy(offsets);
  return err;
}

// The consumer never subscribes: with a group.id it still finds its coordinator and commits
// the offsets it is given, like a consumer that assign()s partitions itself.
static void* committer_main(void* arg) {
  Committer* c = arg;
  const Options* o = c->o;
  rd_kafka_conf_t* conf = base_conf(o);
  char group[200];
  snprintf(group, sizeof group, "perf-commit-%s-%d-%d", o->topic, (int)getpid(), c->index);
  set_conf(conf, "group.id", group);
  set_conf(conf, "enable.auto.commit", "false");
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  int partition = c->index % o->partitions;
  long offset = 0;
  // Untimed first commit: it waits for the coordinator lookup and the connection.
  rd_kafka_resp_err_t err = commit_once(rk, o, partition, offset++);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    c->first_error = err;
    atomic_store(&shared.warm_failed, 1);
  }
  atomic_fetch_add(&shared.ready, 1);
  while (atomic_load(&shared.start_ns) == 0 && !atomic_load(&shared.warm_failed)) usleep(1000);
  while (!atomic_load(&shared.warm_failed)) {
    int64_t t0 = mono_ns();
    if (t0 >= atomic_load(&shared.end_ns)) break;
    err = commit_once(rk, o, partition, offset++);
    int64_t t1 = mono_ns();
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (c->errors++ == 0) c->first_error = err;
      continue;
    }
    // Counted on completion, and only when it completes inside the window.
    if (t1 > atomic_load(&shared.end_ns)) break;
    if (c->count == c->cap) {
      c->cap = c->cap ? c->cap * 2 : 4096;
      c->lat_ns = realloc(c->lat_ns, c->cap * sizeof(int64_t));
      if (c->lat_ns == NULL) die("commit", "out of memory");
    }
    c->lat_ns[c->count++] = t1 - t0;
  }
  rd_kafka_destroy(rk);
  return NULL;
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static double pct_ms(const int64_t* sorted, long n, double q) {
  if (n == 0) return -1;
  long i = (long)(q * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return sorted[i] / 1e6;
}

int run_commit(const Options* o) {
  int g = o->groups;
  if (g < 1 || g > 10000) die("commit", "--groups out of range");
  Committer* cs = calloc(g, sizeof(Committer));
  if (cs == NULL) die("commit", "out of memory");
  memset(&shared, 0, sizeof shared);
  atomic_store(&shared.end_ns, INT64_MAX);
  for (int i = 0; i < g; ++i) {
    cs[i].o = o;
    cs[i].index = i;
    pthread_create(&cs[i].thread, NULL, committer_main, &cs[i]);
  }
  int64_t deadline = mono_ns() + (int64_t)o->timeout_s * 1000000000;
  while (atomic_load(&shared.ready) < g && mono_ns() < deadline) usleep(10000);
  const char* error = "";
  if (atomic_load(&shared.ready) < g) {
    error = "not every group made its first commit in time";
    atomic_store(&shared.warm_failed, 1);
  }
  double cpu0 = process_cpu_s();
  int64_t start = mono_ns();
  atomic_store(&shared.end_ns, start + (int64_t)(o->duration_s * 1e9));
  atomic_store(&shared.start_ns, start);
  for (int i = 0; i < g; ++i) pthread_join(cs[i].thread, NULL);
  double elapsed = o->duration_s;
  double cpu = process_cpu_s() - cpu0;

  long total = 0, errors = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < g; ++i) {
    total += cs[i].count;
    errors += cs[i].errors;
    if (first_error == RD_KAFKA_RESP_ERR_NO_ERROR) first_error = cs[i].first_error;
  }
  int64_t* all = malloc((total ? total : 1) * sizeof(int64_t));
  if (all == NULL) die("commit", "out of memory");
  long n = 0;
  for (int i = 0; i < g; ++i) {
    memcpy(all + n, cs[i].lat_ns, cs[i].count * sizeof(int64_t));
    n += cs[i].count;
    free(cs[i].lat_ns);
  }
  qsort(all, n, sizeof(int64_t), cmp_i64);
  int ok = !atomic_load(&shared.warm_failed) && errors == 0 && total > 0;
  if (*error == '\0' && first_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2name(first_error);
  }
  printf(
      "{\"ok\":%s,\"mode\":\"commit\",\"target\":\"%s\",\"topic\":\"%s\",\"groups\":%d,"
      "\"partitions\":%d,\"duration_s\":%.1f,\"commits\":%ld,\"errors\":%ld,\"error\":\"%s\","
      "\"commits_per_s\":%.1f,\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_max_ms\":%.3f,"
      "\"client_cpu_s\":%.3f}\n",
      ok ? "true" : "false", o->mock ? "mock" : "broker", o->topic, g, o->partitions, elapsed,
      total, errors, error, total / elapsed, pct_ms(all, n, 0.50), pct_ms(all, n, 0.99),
      n > 0 ? all[n - 1] / 1e6 : -1.0, cpu);
  fflush(stdout);
  free(all);
  free(cs);
  return ok ? 0 : 1;
}
