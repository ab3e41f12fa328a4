// Txn mode: a transactional producer sending --records records in transactions of
// --txn-records each (begin, produce, commit), for throughput against the same records sent
// idempotently, and the time each commit_transaction() takes.
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perf.h"

typedef struct {
  atomic_long delivered;
  atomic_long failed;
  atomic_int first_error;
} TxnState;

static void dr_msg_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  TxnState* st = opaque;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    atomic_fetch_add(&st->delivered, 1);
    return;
  }
  int expected = 0;
  atomic_compare_exchange_strong(&st->first_error, &expected, (int)m->err);
  atomic_fetch_add(&st->failed, 1);
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

// Gives up on the run with the librdkafka error's text, freeing it.
static void check(const char* what, rd_kafka_error_t* error) {
  if (error == NULL) return;
  char detail[512];
  snprintf(detail, sizeof detail, "%s", rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
  die(what, detail);
}

int run_txn(const Options* o) {
  TxnState st = {0};
  rd_kafka_conf_t* conf = base_conf(o);
  char txn_id[256];
  snprintf(txn_id, sizeof txn_id, "gregor-perf-%s-%d", o->topic, (int)getpid());
  set_conf(conf, "transactional.id", txn_id);
  set_conf_int(conf, "linger.ms", o->linger_ms);
  set_conf(conf, "compression.type", "none");
  if (o->batch_size > 0) set_conf_int(conf, "batch.size", o->batch_size);
  // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
  set_conf_int(conf, "transaction.timeout.ms", (long)o->timeout_s * 1000);
  set_conf_int(conf, "message.timeout.ms", (long)o->timeout_s * 1000);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o->topic, NULL);
  const int timeout_ms = o->timeout_s * 1000;

  char* payload = malloc(o->record_size > 0 ? o->record_size : 1);
  for (int i = 0; i < o->record_size; ++i) payload[i] = (char)('a' + i % 26);
  int64_t meta_deadline = mono_ns() + 10LL * 1000000000;
  while (partition_count(rk, o->topic) < o->partitions && mono_ns() < meta_deadline) usleep(20000);
  // Untimed: the coordinator lookup and the producer id, as a long-running producer has them.
  check("init_transactions", rd_kafka_init_transactions(rk, timeout_ms));

  const long per_txn = o->txn_records;
  const long txns = (o->records + per_txn - 1) / per_txn;
  int64_t* commit_ns = malloc(txns * sizeof(int64_t));
  if (payload == NULL || commit_ns == NULL) die("txn", "out of memory");
  double cpu0 = process_cpu_s();
  int64_t start = mono_ns();
  long sent = 0;
  for (long t = 0; t < txns; ++t) {
    check("begin_transaction", rd_kafka_begin_transaction(rk));
    for (long i = 0; i < per_txn && sent < o->records; ++i, ++sent) {
      while (rd_kafka_produce(rkt, (int32_t)(sent % o->partitions), 0, payload, o->record_size,
                              NULL, 0, NULL) != 0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          die("produce", rd_kafka_err2str(rd_kafka_last_error()));
        }
        rd_kafka_poll(rk, 1);
      }
      rd_kafka_poll(rk, 0);
    }
    int64_t c0 = mono_ns();
    // Flushes the transaction's records, then EndTxn: returns once the commit is complete.
    check("commit_transaction", rd_kafka_commit_transaction(rk, timeout_ms));
    commit_ns[t] = mono_ns() - c0;
  }
  int64_t end = mono_ns();
  double cpu = process_cpu_s() - cpu0;
  rd_kafka_poll(rk, 0);

  qsort(commit_ns, txns, sizeof(int64_t), cmp_i64);
  long delivered = atomic_load(&st.delivered), failed = atomic_load(&st.failed);
  double elapsed = (end - start) / 1e9;
  double bytes = (double)delivered * o->record_size;
  int ok = delivered == o->records && failed == 0;
  printf(
      "{\"ok\":%s,\"mode\":\"txn\",\"target\":\"%s\",\"topic\":\"%s\",\"records\":%ld,"
      "\"record_size\":%d,\"partitions\":%d,\"txn_records\":%ld,\"transactions\":%ld,"
      "\"delivered\":%ld,\"failed\":%ld,\"error\":\"%s\",\"elapsed_s\":%.4f,"
      "\"records_per_s\":%.1f,\"mb_per_s\":%.3f,\"bytes\":%.0f,\"commit_p50_ms\":%.3f,"
      "\"commit_p99_ms\":%.3f,\"commit_max_ms\":%.3f,\"client_cpu_s\":%.3f,\"librdkafka\":\"%s\"}"
      "\n",
      ok ? "true" : "false", o->mock ? "mock" : "broker", o->topic, o->records, o->record_size,
      o->partitions, per_txn, txns, delivered, failed,
      rd_kafka_err2name(atomic_load(&st.first_error)), elapsed, delivered / elapsed,
      bytes / (1 << 20) / elapsed, bytes, commit_ns[txns / 2] / 1e6,
      commit_ns[(long)(txns * 0.99)] / 1e6, commit_ns[txns - 1] / 1e6, cpu, rd_kafka_version_str());
  fflush(stdout);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(payload);
  free(commit_ns);
  return ok ? 0 : 1;
}
