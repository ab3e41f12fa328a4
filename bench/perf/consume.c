// Consume mode: a group-less consumer reading every partition from the beginning.
#define _GNU_SOURCE
#include "perf.h"

#include <stdio.h>
#include <unistd.h>

typedef struct {
  long count, errors;
  double bytes, elapsed_s, cpu_s, mock_cpu_s;
  const char* first_error;
  int partitions;
} ConsumeStats;

// One group-less consumer like kcat: every partition from the beginning onto one queue, until
// `want` records have arrived. The clock starts once the metadata is known (so the connection
// is up) and includes the offset lookup and the first fetch round trip.
static void consume_pass(const Options* o, long want, ConsumeStats* s) {
  rd_kafka_conf_t* conf = base_conf(o);
  set_conf(conf, "enable.partition.eof", "false");
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
  char errstr[512];
  if (rd_kafka_topic_conf_set(tconf, "auto.commit.enable", "false", errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    die("auto.commit.enable", errstr);
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o->topic, tconf);
  int64_t deadline = mono_ns() + (int64_t)o->timeout_s * 1000000000;
  int partitions = -1;
  while ((partitions = partition_count(rk, o->topic)) < 0 && mono_ns() < deadline) usleep(100000);
  if (partitions < 0) die("consume", "topic metadata unavailable");
  s->partitions = partitions;

  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  double cpu0 = process_cpu_s(), mock_cpu0 = o->mock ? mock_thread_cpu_s() : -1;
  int64_t t0 = mono_ns();
  for (int p = 0; p < partitions; ++p) {
    if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, queue) == -1) {
      die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));
    }
  }
  enum { kBatch = 10000 };
  // A broker that stops serving should fail the run quickly, not hold it to the deadline.
  const int64_t kStallNs = 15LL * 1000000000;
  static rd_kafka_message_t* msgs[kBatch];
  long count = 0;
  int64_t last_progress = mono_ns();
  while (count < want && mono_ns() < deadline) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, msgs, kBatch);
    if (n > 0) {
      last_progress = mono_ns();
    } else if (mono_ns() - last_progress > kStallNs) {
      if (s->errors++ == 0) s->first_error = "stalled: no records for 15 s";
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++count;
        s->bytes += msgs[i]->len + msgs[i]->key_len;
      } else if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (s->errors++ == 0) s->first_error = rd_kafka_err2name(msgs[i]->err);
      }
      rd_kafka_message_destroy(msgs[i]);
    }
  }
  int64_t end = mono_ns();
  s->count += count;
  s->cpu_s += process_cpu_s() - cpu0;
  if (o->mock) s->mock_cpu_s += mock_thread_cpu_s() - mock_cpu0;
  s->elapsed_s += (end - t0) / 1e9;
  for (int p = 0; p < partitions; ++p) rd_kafka_consume_stop(rkt, p);
  rd_kafka_queue_destroy(queue);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

// Records the topic holds now: the sum over partitions of high minus low watermark.
static long retained_records(const Options* o) {
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, base_conf(o));
  long total = 0;
  for (int p = 0; p < o->partitions; ++p) {
    int64_t lo, hi;
    if (rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 5000) != 0)
      die("watermarks", o->topic);
    total += hi - lo;
  }
  rd_kafka_destroy(rk);
  return total;
}

// The mock keeps only a few MB per partition and drops older batches, so it is measured in
// rounds: write a chunk that it retains whole (untimed), read all it holds (timed), repeat.
static void consume_mock(const Options* o, ConsumeStats* s) {
  long per_partition = (3L << 20) / (o->record_size + 80);
  if (per_partition > 30000) per_partition = 30000;
  if (per_partition < 1) per_partition = 1;
  while (s->count < o->records) {
    Options chunk = *o;
    chunk.acks = "1";
    chunk.rate = 0;
    chunk.records = per_partition * o->partitions;
    if (chunk.records > o->records - s->count) chunk.records = o->records - s->count;
    if (run_produce(&chunk, 0) != 0) die("consume", "mock preload failed");
    long want = retained_records(o);
    long before = s->count;
    consume_pass(o, want, s);
    if (s->count - before < want) break;
  }
}

int run_consume(const Options* o) {
  ConsumeStats s = {.first_error = ""};
  if (o->mock) {
    consume_mock(o, &s);
  } else {
    consume_pass(o, o->records, &s);
  }
  double elapsed = s.elapsed_s > 0 ? s.elapsed_s : 1e-9;
  int ok = s.count >= o->records;
  printf(
      "{\"ok\":%s,\"mode\":\"consume\",\"target\":\"%s\",\"topic\":\"%s\",\"records\":%ld,"
      "\"record_size\":%d,\"partitions\":%d,\"consumed\":%ld,\"errors\":%ld,\"error\":\"%s\","
      "\"elapsed_s\":%.4f,\"records_per_s\":%.1f,\"mb_per_s\":%.3f,"
      "\"bytes\":%.0f,\"client_cpu_s\":%.3f,\"mock_cpu_s\":%.3f}\n",
      ok ? "true" : "false", o->mock ? "mock" : "broker", o->topic, o->records, o->record_size,
      s.partitions, s.count, s.errors, s.first_error, elapsed, s.count / elapsed,
      s.bytes / (1 << 20) / elapsed, s.bytes, s.cpu_s, o->mock ? s.mock_cpu_s : -1.0);
  fflush(stdout);
  return ok ? 0 : 1;
}
