// Produce mode: full-speed or paced producing with per-record delivery latency.
#define _GNU_SOURCE
#include "perf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// Shared between the producing thread and the poller thread that serves delivery reports.
typedef struct {
  int64_t* sent_ns;  // indexed by record number, written before the record is enqueued
  int64_t* lat_ns;   // -1 until that record's delivery report arrives
  atomic_long delivered;
  atomic_long failed;
  atomic_int first_error;
  atomic_int stop_poller;
} ProduceState;

static void dr_msg_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  int64_t now = mono_ns();
  ProduceState* st = opaque;
  long idx = (long)(intptr_t)m->_private;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    int expected = 0;
    atomic_compare_exchange_strong(&st->first_error, &expected, (int)m->err);
    atomic_fetch_add(&st->failed, 1);
    return;
  }
  st->lat_ns[idx] = now - st->sent_ns[idx];
  atomic_fetch_add(&st->delivered, 1);
}

// Serves delivery reports as they arrive so that latency is not stretched by how often the
// producing thread would otherwise poll.
static void* poller_main(void* arg) {
  rd_kafka_t* rk = arg;
  ProduceState* st = rd_kafka_opaque(rk);
  while (!atomic_load(&st->stop_poller)) rd_kafka_poll(rk, 20);
  return NULL;
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static double percentile_ms(const int64_t* sorted, long n, double q) {
  if (n == 0) return -1;
  long i = (long)(q * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return sorted[i] / 1e6;
}

// Produces o->records records round-robin over the partitions. With `report` it prints the
// JSON result line; the consume mode against the mock uses it silently to preload data.
int run_produce(const Options* o, int report) {
  ProduceState st = {0};
  st.sent_ns = calloc(o->records, sizeof(int64_t));
  st.lat_ns = malloc(o->records * sizeof(int64_t));
  if (st.sent_ns == NULL || st.lat_ns == NULL) die("produce", "out of memory");
  memset(st.lat_ns, 0xff, o->records * sizeof(int64_t));

  rd_kafka_conf_t* conf = base_conf(o);
  set_conf(conf, "acks", o->acks);
  set_conf_int(conf, "linger.ms", o->linger_ms);
  set_conf(conf, "compression.type", "none");
  if (o->batch_size > 0) set_conf_int(conf, "batch.size", o->batch_size);
  if (o->batch_num_messages > 0) set_conf_int(conf, "batch.num.messages", o->batch_num_messages);
  set_conf_int(conf, "message.timeout.ms", (long)o->timeout_s * 1000);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o->topic, NULL);

  char* payload = malloc(o->record_size > 0 ? o->record_size : 1);
  for (int i = 0; i < o->record_size; ++i) payload[i] = (char)('a' + i % 26);

  // Connect and learn the leaders before the clock starts, as a long-running producer would.
  int64_t meta_deadline = mono_ns() + 10LL * 1000000000;
  while (partition_count(rk, o->topic) < o->partitions && mono_ns() < meta_deadline) usleep(20000);

  pthread_t poller;
  pthread_create(&poller, NULL, poller_main, rk);
  int64_t deadline = mono_ns() + (int64_t)o->timeout_s * 1000000000;
  double cpu0 = process_cpu_s(), mock_cpu0 = o->mock ? mock_thread_cpu_s() : -1;
  int64_t start = mono_ns();
  long sent = 0;
  for (; sent < o->records && mono_ns() < deadline; ++sent) {
    if (o->rate > 0) {
      int64_t due = start + (int64_t)(sent * 1e9 / o->rate);
      if (mono_ns() < due) {
        struct timespec ts = {due / 1000000000, due % 1000000000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      }
    }
    for (;;) {
      st.sent_ns[sent] = mono_ns();
      // Flag 0: librdkafka references the shared payload without copying, as the Java tool does.
      if (rd_kafka_produce(rkt, (int32_t)(sent % o->partitions), 0, payload, o->record_size, NULL,
                           0, (void*)(intptr_t)sent) == 0) {
        break;
      }
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL || mono_ns() > deadline) {
        die("produce", rd_kafka_err2str(rd_kafka_last_error()));
      }
      usleep(200);
    }
  }
  while (atomic_load(&st.delivered) + atomic_load(&st.failed) < sent && mono_ns() < deadline) {
    rd_kafka_flush(rk, 100);
  }
  int64_t end = mono_ns();
  double cpu = process_cpu_s() - cpu0;
  double mock_cpu = o->mock ? mock_thread_cpu_s() - mock_cpu0 : -1;
  atomic_store(&st.stop_poller, 1);
  pthread_join(poller, NULL);

  long delivered = atomic_load(&st.delivered), failed = atomic_load(&st.failed);
  long n = 0;
  for (long i = o->warmup_records; i < sent; ++i) {
    if (st.lat_ns[i] >= 0) st.lat_ns[n++] = st.lat_ns[i];
  }
  qsort(st.lat_ns, n, sizeof(int64_t), cmp_i64);
  double elapsed = (end - start) / 1e9;
  double bytes = (double)delivered * o->record_size;
  int ok = delivered == o->records && failed == 0;
  if (report) {
    printf(
        "{\"ok\":%s,\"mode\":\"produce\",\"target\":\"%s\",\"topic\":\"%s\",\"records\":%ld,"
        "\"record_size\":%d,\"acks\":\"%s\",\"partitions\":%d,\"linger_ms\":%d,\"rate\":%.0f,"
        "\"delivered\":%ld,\"failed\":%ld,\"error\":\"%s\",\"elapsed_s\":%.4f,"
        "\"records_per_s\":%.1f,\"mb_per_s\":%.3f,\"bytes\":%.0f,\"lat_p50_ms\":%.3f,"
        "\"lat_p99_ms\":%.3f,\"lat_p999_ms\":%.3f,\"lat_max_ms\":%.3f,\"client_cpu_s\":%.3f,"
        "\"mock_cpu_s\":%.3f,\"librdkafka\":\"%s\"}\n",
        ok ? "true" : "false", o->mock ? "mock" : "broker", o->topic, o->records, o->record_size,
        o->acks, o->partitions, o->linger_ms, o->rate, delivered, failed,
        rd_kafka_err2name(atomic_load(&st.first_error)), elapsed, delivered / elapsed,
        bytes / (1 << 20) / elapsed, bytes, percentile_ms(st.lat_ns, n, 0.50),
        percentile_ms(st.lat_ns, n, 0.99), percentile_ms(st.lat_ns, n, 0.999),
        n > 0 ? st.lat_ns[n - 1] / 1e6 : -1.0, cpu, mock_cpu, rd_kafka_version_str());
    fflush(stdout);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(payload);
  free(st.sent_ns);
  free(st.lat_ns);
  return ok ? 0 : 1;
}
