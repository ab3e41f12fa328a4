// Admin modes: create a topic (or wait for one) and count the records a topic serves.
#define _GNU_SOURCE
#include "perf.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

// Creates the topic through the Admin API (CreateTopics), then waits until every partition
// has a leader in the metadata. An existing topic with the same name counts as success.
// Mode wait-topic only waits (after another tool created the topic).
int run_create_topic(const Options* o) {
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, base_conf(o));
  int64_t t0 = mono_ns(), deadline = t0 + (int64_t)o->timeout_s * 1000000000;
  const char* result = "NO_ERROR";
  if (!o->mock && strcmp(o->mode, "create-topic") == 0) {
    char errstr[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o->topic, o->partitions, o->replication_factor,
                                                    errstr, sizeof errstr);
    if (nt == NULL) die("NewTopic", errstr);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, o->timeout_s * 1000, errstr, sizeof errstr);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, o->timeout_s * 1000);
    if (ev == NULL) die("CreateTopics", "timed out");
    if (rd_kafka_event_error(ev)) die("CreateTopics", rd_kafka_event_error_string(ev));
    size_t cnt = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    rd_kafka_resp_err_t err =
        cnt == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    result = rd_kafka_err2name(err);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      die("CreateTopics", rd_kafka_err2str(err));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
  }
  int partitions = -1;
  while ((partitions = partition_count(rk, o->topic)) < o->partitions && mono_ns() < deadline) {
    usleep(50000);
  }
  int ok = partitions >= o->partitions;
  printf(
      "{\"ok\":%s,\"mode\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,"
      "\"result\":\"%s\",\"elapsed_s\":%.4f}\n",
      ok ? "true" : "false", o->mode, o->topic, partitions, result, (mono_ns() - t0) / 1e9);
  rd_kafka_destroy(rk);
  return ok ? 0 : 1;
}

// Sums the high watermarks of all partitions, retrying until they reach --records: after a
// restart this says that the broker serves all the data it had before.
int run_offsets(const Options* o) {
  rd_kafka_t* rk = new_client(RD_KAFKA_PRODUCER, base_conf(o));
  int64_t t0 = mono_ns(), deadline = t0 + (int64_t)o->timeout_s * 1000000000;
  long total = -1;
  int partitions = -1;
  while (mono_ns() < deadline) {
    partitions = partition_count(rk, o->topic);
    if (partitions > 0) {
      total = 0;
      for (int p = 0; p < partitions && total >= 0; ++p) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 5000) != 0)
          total = -1;
        else
          total += hi;
      }
      if (total >= o->records) break;
    }
    usleep(20000);
  }
  int ok = total >= o->records;
  printf(
      "{\"ok\":%s,\"mode\":\"offsets\",\"topic\":\"%s\",\"partitions\":%d,"
      "\"high_watermark_sum\":%ld,\"elapsed_s\":%.4f}\n",
      ok ? "true" : "false", o->topic, partitions, total, (mono_ns() - t0) / 1e9);
  rd_kafka_destroy(rk);
  return ok ? 0 : 1;
}
