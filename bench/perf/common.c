// Clocks, CPU accounting and librdkafka client set-up shared by every gregor_perf mode.
#define _GNU_SOURCE
#include "perf.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double process_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of one thread: schedstat's nanoseconds on CPU when the kernel has it (clock
// ticks of 10 ms are too coarse for runs of a few hundred MB), else utime+stime from stat.
static double thread_cpu_s(const char* task) {
  char path[300], buf[1024];
  snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", task);
  FILE* f = fopen(path, "r");
  if (f != NULL) {
    unsigned long long ns = 0;
    int got = fscanf(f, "%llu", &ns);
    fclose(f);
    if (got == 1) return ns / 1e9;
  }
  snprintf(path, sizeof path, "/proc/self/task/%s/stat", task);
  f = fopen(path, "r");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
  const char* p = strrchr(buf, ')');
  unsigned long utime = 0, stime = 0;
  if (p == NULL ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
    return -1;
  }
  return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

// CPU seconds of the mock cluster's own thread (named "rdk:mock" by librdkafka), so that the
// reference gets a server-side CPU figure comparable to the broker's.
double mock_thread_cpu_s(void) {
  DIR* dir = opendir("/proc/self/task");
  if (dir == NULL) return -1;
  double total = -1;
  struct dirent* ent;
  while ((ent = readdir(dir)) != NULL) {
    if (ent->d_name[0] == '.') continue;
    char path[300], comm[64];
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", ent->d_name);
    FILE* f = fopen(path, "r");
    if (f == NULL) continue;
    int is_mock = fgets(comm, sizeof comm, f) != NULL && strncmp(comm, "rdk:mock", 8) == 0;
    fclose(f);
    double cpu = is_mock ? thread_cpu_s(ent->d_name) : -1;
    if (cpu >= 0) total = (total < 0 ? 0 : total) + cpu;
  }
  closedir(dir);
  return total;
}

void die(const char* what, const char* detail) {
  printf("{\"ok\":false,\"error\":\"%s: %s\"}\n", what, detail);
  fflush(stdout);
  exit(1);
}

void set_conf(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    die(key, errstr);
  }
}

void set_conf_int(rd_kafka_conf_t* conf, const char* key, long value) {
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", value);
  set_conf(conf, key, buf);
}

rd_kafka_conf_t* base_conf(const Options* o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_conf(conf, "bootstrap.servers", o->bootstrap);
  set_conf(conf, "client.id", "gregor_perf");
  for (int i = 0; i < o->config_count; ++i) {
    char kv[512];
    snprintf(kv, sizeof kv, "%s", o->configs[i]);
    char* eq = strchr(kv, '=');
    if (eq == NULL) die("--config needs key=value", kv);
    *eq = '\0';
    set_conf(conf, kv, eq + 1);
  }
  return conf;
}

rd_kafka_t* new_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == NULL) die("rd_kafka_new", errstr);
  return rk;
}

// Number of partitions of the topic per the cluster's metadata, or -1 when unknown or when any
// partition has no leader yet.
int partition_count(rd_kafka_t* rk, const char* topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);
  const struct rd_kafka_metadata* md = NULL;
  int count = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      count = md->topics[0].partition_cnt;
      for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
        if (md->topics[0].partitions[i].leader < 0) count = -1;
      }
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  return count;
}
