/* librdkafka driver for the integration tests: produces numbered records and reads them back
 * with the legacy simple consumer (no consumer groups), checking content, order and offsets.
 * Modes: roundtrip (produce + verify everything), produce-acked (crash tests), verify-ids. */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Timestamps are explicit so that consumers can check them exactly; fixed base in 2023. */
static const int64_t kBaseTimestampMs = 1700000000000LL;
static const int kValuePadding = 120; /* compressible filler so every codec has work to do */

typedef struct {
  const char* mode;
  const char* bootstrap;
  const char* topic;
  const char* codec;
  const char* acks;
  const char* partitioner; /* "explicit" (id % partitions) or "key" (librdkafka's hash) */
  const char* acked_file;
  const char* ids_file;
  long count;
  long id_base;
  int partitions;
  int create;
  long rate;     /* records per second, 0 = as fast as possible */
  int timeout_s; /* overall deadline for each phase */
  int message_timeout_ms;
  int linger_ms;
  int batch_size;
  const char** extra; /* "key=value" producer/consumer properties */
  int n_extra;
} Options;

typedef struct {
  int32_t partition; /* -1 until delivered */
  int64_t offset;
  int err;
} Delivery;

static Delivery* g_deliveries;
static long g_delivered_ok;
static long g_delivery_failed;
static FILE* g_acked_fp;
static const Options* g_opt;

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "rdkafka_roundtrip: FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void) {
  fprintf(stderr,
          "usage: rdkafka_roundtrip MODE --bootstrap B --topic T [options]\n"
          "modes: roundtrip | produce-acked | verify-ids\n"
          "  --codec none|gzip|snappy|lz4|zstd   --acks all|1|0|-1\n"
          "  --count N  --partitions P  --id-base N  --partitioner explicit|key\n"
          "  --create (create the topic via the Admin API first)\n"
          "  --acked-file F (produce-acked: one acked id per line)\n"
          "  --ids-file F (verify-ids: ids that must be present; may repeat)\n"
          "  --rate R (records/s)  --timeout S  --message-timeout-ms MS\n"
          "  --linger-ms MS  --batch-size BYTES  -X key=value (client property)\n"
          "bootstrap 'mock' runs against librdkafka's built-in mock cluster.\n");
  exit(2);
}

static void parse_args(int argc, char** argv, Options* o) {
  memset(o, 0, sizeof(*o));
  o->codec = "none";
  o->acks = "all";
  o->partitioner = "explicit";
  o->count = 1000;
  o->partitions = 1;
  o->timeout_s = 60;
  o->message_timeout_ms = 30000;
  o->linger_ms = 5;
  o->batch_size = -1;
  o->extra = calloc((size_t)argc, sizeof(char*));
  if (argc < 2) usage();
  o->mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (++i, 1))
    if (strcmp(a, "--create") == 0)
      o->create = 1;
    else if (ARG("--bootstrap"))
      o->bootstrap = v;
    else if (ARG("--topic"))
      o->topic = v;
    else if (ARG("--codec"))
      o->codec = v;
    else if (ARG("--acks"))
      o->acks = v;
    else if (ARG("--partitioner"))
      o->partitioner = v;
    else if (ARG("--acked-file"))
      o->acked_file = v;
    else if (ARG("--ids-file"))
      o->ids_file = v;
    else if (ARG("--count"))
      o->count = atol(v);
    else if (ARG("--id-base"))
      o->id_base = atol(v);
    else if (ARG("--partitions"))
      o->partitions = atoi(v);
    else if (ARG("--rate"))
      o->rate = atol(v);
    else if (ARG("--timeout"))
      o->timeout_s = atoi(v);
    else if (ARG("--message-timeout-ms"))
      o->message_timeout_ms = atoi(v);
    else if (ARG("--linger-ms"))
      o->linger_ms = atoi(v);
    else if (ARG("--batch-size"))
      o->batch_size = atoi(v);
    else if (ARG("-X"))
      o->extra[o->n_extra++] = v;
    else
      usage();
#undef ARG
  }
  if (!o->bootstrap || !o->topic || o->count < 0 || o->partitions < 1) usage();
}

static void conf_set(rd_kafka_conf_t* conf, const char* k, const char* v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
    die("config %s=%s: %s", k, v, err);
}

/* The mock cluster lives inside the first client created; later clients bootstrap from it. */
static char g_mock_bootstraps[256];

static rd_kafka_conf_t* base_conf(const Options* o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (strcmp(o->bootstrap, "mock") == 0 && !g_mock_bootstraps[0]) {
    conf_set(conf, "test.mock.num.brokers", "1");
  } else {
    conf_set(conf, "bootstrap.servers",
             strcmp(o->bootstrap, "mock") == 0 ? g_mock_bootstraps : o->bootstrap);
  }
  conf_set(conf, "client.id", "gregor-itest-rdkafka");
  for (int i = 0; i < o->n_extra; i++) {
    char kv[512];
    snprintf(kv, sizeof(kv), "%s", o->extra[i]);
    char* eq = strchr(kv, '=');
    if (!eq) die("-X wants key=value, got %s", o->extra[i]);
    *eq = '\0';
    conf_set(conf, kv, eq + 1);
  }
  return conf;
}

static void remember_mock(rd_kafka_t* rk) {
  rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(rk);
  if (mc && !g_mock_bootstraps[0]) {
    snprintf(g_mock_bootstraps, sizeof(g_mock_bootstraps), "%s",
             rd_kafka_mock_cluster_bootstraps(mc));
    rd_kafka_mock_topic_create(mc, g_opt->topic, g_opt->partitions, 1);
  }
}

/* ---- record content ------------------------------------------------------------------ */

static int make_value(long id, char* buf, size_t cap) {
  int n = snprintf(buf, cap, "id=%ld;", id);
  for (int i = 0; i < kValuePadding && (size_t)n + 1 < cap; i++)
    buf[n++] = "gregor-integration-payload "[i % 27];
  buf[n] = '\0';
  return n;
}

static int64_t timestamp_of(long id) {
  return kBaseTimestampMs + id;
}

static long parse_id(const rd_kafka_message_t* m) {
  if (!m->payload || m->len < 4 || memcmp(m->payload, "id=", 3) != 0) return -1;
  char tmp[32];
  size_t n = m->len < sizeof(tmp) - 1 ? m->len : sizeof(tmp) - 1;
  memcpy(tmp, m->payload, n);
  tmp[n] = '\0';
  return strtol(tmp + 3, NULL, 10);
}

/* Checks key, value, headers and timestamp of one consumed record; returns 0 if all match. */
static int check_record(const rd_kafka_message_t* m, long id, char* why, size_t cap) {
  char expect[256];
  int n = make_value(id, expect, sizeof(expect));
  if (m->len != (size_t)n || memcmp(m->payload, expect, (size_t)n) != 0) {
    snprintf(why, cap, "value mismatch for id %ld", id);
    return -1;
  }
  char key[32];
  int kn = snprintf(key, sizeof(key), "k%ld", id);
  if (m->key_len != (size_t)kn || memcmp(m->key, key, (size_t)kn) != 0) {
    snprintf(why, cap, "key mismatch for id %ld", id);
    return -1;
  }
  rd_kafka_timestamp_type_t tstype;
  int64_t ts = rd_kafka_message_timestamp(m, &tstype);
  if (tstype != RD_KAFKA_TIMESTAMP_CREATE_TIME || ts != timestamp_of(id)) {
    snprintf(why, cap, "timestamp mismatch for id %ld: type %d ts %" PRId64, id, (int)tstype, ts);
    return -1;
  }
  rd_kafka_headers_t* hdrs = NULL;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs ||
      rd_kafka_header_cnt(hdrs) != 2) {
    snprintf(why, cap, "expected 2 headers for id %ld", id);
    return -1;
  }
  const void* hv;
  size_t hs;
  char h1[32], h2[32];
  int h1n = snprintf(h1, sizeof(h1), "%ld", id);
  int h2n = snprintf(h2, sizeof(h2), "x%ld", id % 97);
  if (rd_kafka_header_get_last(hdrs, "h1", &hv, &hs) || hs != (size_t)h1n ||
      memcmp(hv, h1, hs) != 0 || rd_kafka_header_get_last(hdrs, "h2", &hv, &hs) ||
      hs != (size_t)h2n || memcmp(hv, h2, hs) != 0) {
    snprintf(why, cap, "header mismatch for id %ld", id);
    return -1;
  }
  return 0;
}

/* ---- producing ----------------------------------------------------------------------- */

static void dr_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  long id = (long)(intptr_t)m->_private;
  Delivery* d = &g_deliveries[id - g_opt->id_base];
  d->err = m->err;
  if (m->err) {
    g_delivery_failed++;
    if (g_delivery_failed <= 10)
      fprintf(stderr, "delivery of id %ld failed: %s\n", id, rd_kafka_err2str(m->err));
    return;
  }
  d->partition = m->partition;
  d->offset = m->offset;
  g_delivered_ok++;
  if (g_acked_fp) {
    /* Flushed per record: the broker, not this process, is the one being killed. */
    fprintf(g_acked_fp, "%ld\n", id);
    fflush(g_acked_fp);
  }
}

static void create_topic(rd_kafka_t* rk, const Options* o) {
  char err[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(o->topic, o->partitions, 1, err, sizeof(err));
  if (!nt) die("NewTopic: %s", err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, o->timeout_s * 1000);
  if (!ev) die("CreateTopics timed out");
  if (rd_kafka_event_error(ev)) die("CreateTopics: %s", rd_kafka_event_error_string(ev));
  size_t n;
  const rd_kafka_topic_result_t** res =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; i++) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      die("CreateTopics %s: %s (%s)", rd_kafka_topic_result_name(res[i]), rd_kafka_err2name(e),
          rd_kafka_topic_result_error_string(res[i]));
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
}

/* Waits until metadata shows the topic with the expected partition count and leaders. */
static void wait_for_topic(rd_kafka_t* rk, const Options* o) {
  int64_t deadline = now_ms() + o->timeout_s * 1000LL;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o->topic, NULL);
  for (;;) {
    const struct rd_kafka_metadata* md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    int ok = 0;
    if (!e && md->topic_cnt == 1 && !md->topics[0].err &&
        md->topics[0].partition_cnt == o->partitions) {
      ok = 1;
      for (int p = 0; p < md->topics[0].partition_cnt; p++)
        if (md->topics[0].partitions[p].leader < 0) ok = 0;
    }
    if (md) rd_kafka_metadata_destroy(md);
    if (ok) break;
    if (now_ms() > deadline)
      die("topic %s with %d partitions not visible in metadata (%s)", o->topic, o->partitions,
          e ? rd_kafka_err2str(e) : "wrong partition count or no leader");
    usleep(100 * 1000);
  }
  rd_kafka_topic_destroy(rkt);
}

static rd_kafka_t* new_producer(const Options* o) {
  rd_kafka_conf_t* conf = base_conf(o);
  char buf[64];
  conf_set(conf, "compression.codec", o->codec);
  conf_set(conf, "acks", o->acks);
  snprintf(buf, sizeof(buf), "%d", o->message_timeout_ms);
  conf_set(conf, "message.timeout.ms", buf);
  snprintf(buf, sizeof(buf), "%d", o->linger_ms);
  conf_set(conf, "linger.ms", buf);
  if (o->batch_size > 0) {
    snprintf(buf, sizeof(buf), "%d", o->batch_size);
    conf_set(conf, "batch.size", buf);
  }
  conf_set(conf, "queue.buffering.max.messages", "200000");
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) die("producer: %s", err);
  remember_mock(rk);
  return rk;
}

static void produce_all(rd_kafka_t* rk, const Options* o) {
  int64_t start = now_ms();
  int explicit_part = strcmp(o->partitioner, "explicit") == 0;
  for (long i = 0; i < o->count; i++) {
    long id = o->id_base + i;
    char value[256], key[32], h1[32], h2[32];
    int vn = make_value(id, value, sizeof(value));
    int kn = snprintf(key, sizeof(key), "k%ld", id);
    int h1n = snprintf(h1, sizeof(h1), "%ld", id);
    int h2n = snprintf(h2, sizeof(h2), "x%ld", id % 97);
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(2);
    rd_kafka_header_add(hdrs, "h1", -1, h1, h1n);
    rd_kafka_header_add(hdrs, "h2", -1, h2, h2n);
    g_deliveries[i].partition = -1;
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(o->topic),
          RD_KAFKA_V_PARTITION(explicit_part ? (int32_t)(id % o->partitions)
                                             : RD_KAFKA_PARTITION_UA),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value, (size_t)vn),
          RD_KAFKA_V_KEY(key, (size_t)kn), RD_KAFKA_V_TIMESTAMP(timestamp_of(id)),
          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void*)(intptr_t)id), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 10);
        continue;
      }
      if (e) die("producev id %ld: %s", id, rd_kafka_err2str(e));
      break;
    }
    if (o->rate > 0) {
      int64_t due = start + (int64_t)(i + 1) * 1000 / o->rate;
      while (now_ms() < due) rd_kafka_poll(rk, (int)(due - now_ms()) > 0 ? 1 : 0);
    } else if (i % 1000 == 0) {
      rd_kafka_poll(rk, 0);
    }
  }
  int64_t deadline = now_ms() + (int64_t)o->timeout_s * 1000;
  while (rd_kafka_outq_len(rk) > 0 && now_ms() < deadline) rd_kafka_poll(rk, 50);
  if (rd_kafka_outq_len(rk) > 0)
    die("%d records still undelivered at deadline", rd_kafka_outq_len(rk));
  fprintf(stderr, "produced %ld records: %ld acked, %ld failed, %.1fs\n", o->count, g_delivered_ok,
          g_delivery_failed, (now_ms() - start) / 1000.0);
}

/* ---- consuming ----------------------------------------------------------------------- */

typedef void (*RecordFn)(const rd_kafka_message_t* m, void* ctx);

/* Reads every partition from the beginning up to its high watermark at call time. Offsets
 * must be contiguous from the first one returned (the log start). Returns records read. */
static long consume_all(const Options* o, RecordFn fn, void* ctx, int64_t* log_start) {
  rd_kafka_conf_t* conf = base_conf(o);
  conf_set(conf, "enable.auto.commit", "false");
  conf_set(conf, "enable.auto.offset.store", "false");
  conf_set(conf, "check.crcs", "true");
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!rk) die("consumer: %s", err);
  rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
  if (rd_kafka_topic_conf_set(tconf, "auto.commit.enable", "false", err, sizeof(err)))
    die("topic conf: %s", err);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o->topic, tconf);
  long total = 0;
  rd_kafka_message_t* batch[1000];
  for (int p = 0; p < o->partitions; p++) {
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 10000);
    if (e) die("watermarks %s[%d]: %s", o->topic, p, rd_kafka_err2str(e));
    if (log_start) log_start[p] = lo;
    if (rd_kafka_consume_start(rkt, p, RD_KAFKA_OFFSET_BEGINNING) == -1)
      die("consume_start %d: %s", p, rd_kafka_err2str(rd_kafka_last_error()));
    int64_t next = -1;
    int64_t deadline = now_ms() + (int64_t)o->timeout_s * 1000;
    while (next < hi) {
      if (now_ms() > deadline)
        die("partition %d: read up to offset %" PRId64 ", high watermark %" PRId64, p, next, hi);
      ssize_t n = rd_kafka_consume_batch(rkt, p, 1000, batch, 1000);
      if (n < 0) die("consume_batch: %s", rd_kafka_err2str(rd_kafka_last_error()));
      for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t* m = batch[i];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          rd_kafka_message_destroy(m);
          continue;
        }
        if (m->err) die("partition %d: consume error %s", p, rd_kafka_message_errstr(m));
        if (next == -1) {
          if (m->offset != lo)
            die("partition %d: first offset %" PRId64 " != log start %" PRId64, p, m->offset, lo);
        } else if (m->offset != next) {
          die("partition %d: offset %" PRId64 " follows %" PRId64 " (not contiguous)", p, m->offset,
              next - 1);
        }
        next = m->offset + 1;
        if (m->offset < hi) {
          fn(m, ctx);
          total++;
        }
        rd_kafka_message_destroy(m);
      }
      if (next == -1 && lo == hi) break;
    }
    rd_kafka_consume_stop(rkt, p);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return total;
}

typedef struct {
  const Options* o;
  long* per_partition_next_index; /* position in the per-partition expected id sequence */
  long** expected;                /* expected[p][k]: k-th id delivered to partition p */
  long* expected_len;
  long mismatches;
} RoundtripCtx;

static void roundtrip_record(const rd_kafka_message_t* m, void* vctx) {
  RoundtripCtx* c = vctx;
  int p = m->partition;
  long k = c->per_partition_next_index[p]++;
  char why[256];
  if (k >= c->expected_len[p]) {
    snprintf(why, sizeof(why), "partition %d: unexpected extra record at offset %" PRId64, p,
             m->offset);
  } else {
    long id = c->expected[p][k];
    if (parse_id(m) != id) {
      snprintf(why, sizeof(why), "partition %d offset %" PRId64 ": id %ld, expected %ld", p,
               m->offset, parse_id(m), id);
    } else if (check_record(m, id, why, sizeof(why)) == 0) {
      const Delivery* d = &g_deliveries[id - c->o->id_base];
      if (d->offset < 0 || d->offset == m->offset) return;
      snprintf(why, sizeof(why), "id %ld: delivered at offset %" PRId64 ", consumed at %" PRId64,
               id, d->offset, m->offset);
    }
  }
  if (++c->mismatches <= 10) fprintf(stderr, "mismatch: %s\n", why);
}

static int cmp_offset(const void* a, const void* b) {
  int64_t x = g_deliveries[*(const long*)a - g_opt->id_base].offset;
  int64_t y = g_deliveries[*(const long*)b - g_opt->id_base].offset;
  if (x != y) return x < y ? -1 : 1;
  return *(const long*)a < *(const long*)b ? -1 : 1;
}

static int run_roundtrip(const Options* o) {
  rd_kafka_t* rk = new_producer(o);
  if (o->create) create_topic(rk, o);
  wait_for_topic(rk, o);
  produce_all(rk, o);
  if (g_delivery_failed) die("%ld deliveries failed", g_delivery_failed);
  /* The producer stays alive until the end: with bootstrap 'mock' it hosts the cluster. */

  /* Expected per-partition sequence: in delivered-offset order (acks=0 gives no offsets, so
   * produce order, which a single in-order producer preserves). */
  RoundtripCtx c = {.o = o};
  c.per_partition_next_index = calloc((size_t)o->partitions, sizeof(long));
  c.expected = calloc((size_t)o->partitions, sizeof(long*));
  c.expected_len = calloc((size_t)o->partitions, sizeof(long));
  for (int p = 0; p < o->partitions; p++)
    c.expected[p] = malloc(sizeof(long) * (size_t)(o->count + 1));
  for (long i = 0; i < o->count; i++) {
    int p = g_deliveries[i].partition;
    if (p < 0 || p >= o->partitions) die("id %ld delivered to bad partition %d", o->id_base + i, p);
    if (strcmp(o->partitioner, "explicit") == 0 && p != (o->id_base + i) % o->partitions)
      die("id %ld delivered to partition %d, asked for %ld", o->id_base + i, p,
          (o->id_base + i) % o->partitions);
    c.expected[p][c.expected_len[p]++] = o->id_base + i;
  }
  for (int p = 0; p < o->partitions; p++) {
    qsort(c.expected[p], (size_t)c.expected_len[p], sizeof(long), cmp_offset);
    /* A fresh topic holds exactly our records, so delivered offsets must be 0..n-1. */
    for (long k = 0; k < c.expected_len[p]; k++) {
      int64_t off = g_deliveries[c.expected[p][k] - o->id_base].offset;
      if (off >= 0 && off != k)
        die("partition %d: delivery report offsets not contiguous from 0 (k=%ld offset=%" PRId64
            ")",
            p, k, off);
    }
  }
  int64_t* log_start = calloc((size_t)o->partitions, sizeof(int64_t));
  int64_t t0 = now_ms();
  long got = consume_all(o, roundtrip_record, &c, log_start);
  for (int p = 0; p < o->partitions; p++) {
    if (log_start[p] != 0) die("partition %d: log start %" PRId64 ", expected 0", p, log_start[p]);
    if (c.per_partition_next_index[p] != c.expected_len[p])
      die("partition %d: consumed %ld records, produced %ld", p, c.per_partition_next_index[p],
          c.expected_len[p]);
  }
  if (c.mismatches) die("%ld mismatching records", c.mismatches);
  printf("OK roundtrip topic=%s codec=%s partitions=%d produced=%ld consumed=%ld", o->topic,
         o->codec, o->partitions, o->count, got);
  for (int p = 0; p < o->partitions; p++) printf(" p%d=%ld", p, c.expected_len[p]);
  printf(" consume_s=%.1f\n", (now_ms() - t0) / 1000.0);
  rd_kafka_destroy(rk);
  return 0;
}

static int run_produce_acked(const Options* o) {
  if (!o->acked_file) usage();
  g_acked_fp = fopen(o->acked_file, "a");
  if (!g_acked_fp) die("open %s: %s", o->acked_file, strerror(errno));
  rd_kafka_t* rk = new_producer(o);
  if (o->create) create_topic(rk, o);
  wait_for_topic(rk, o);
  produce_all(rk, o);
  rd_kafka_destroy(rk);
  fclose(g_acked_fp);
  /* Failures are expected while the broker is down; only acked ids are promised. */
  printf("OK produce-acked topic=%s acked=%ld failed=%ld\n", o->topic, g_delivered_ok,
         g_delivery_failed);
  return 0;
}

typedef struct {
  unsigned char* seen; /* indexed by id */
  long max_id;
  long records;
  long bad;
} VerifyCtx;

static void verify_record(const rd_kafka_message_t* m, void* vctx) {
  VerifyCtx* c = vctx;
  long id = parse_id(m);
  char why[256];
  if (id < 0 || check_record(m, id, why, sizeof(why)) != 0) {
    if (++c->bad <= 10)
      fprintf(stderr, "bad record at partition %d offset %" PRId64 "\n", m->partition, m->offset);
    return;
  }
  if (id <= c->max_id) c->seen[id] = 1;
  c->records++;
}

static int run_verify_ids(const Options* o) {
  if (!o->ids_file) usage();
  FILE* fp = fopen(o->ids_file, "r");
  if (!fp) die("open %s: %s", o->ids_file, strerror(errno));
  long cap = 1024, n = 0, id, max_id = 0;
  long* ids = malloc(sizeof(long) * (size_t)cap);
  while (fscanf(fp, "%ld", &id) == 1) {
    if (n == cap) ids = realloc(ids, sizeof(long) * (size_t)(cap *= 2));
    ids[n++] = id;
    if (id > max_id) max_id = id;
  }
  fclose(fp);
  VerifyCtx c = {.seen = calloc((size_t)max_id + 1, 1), .max_id = max_id};
  if (strcmp(o->bootstrap, "mock") == 0) die("verify-ids needs a real broker");
  long got = consume_all(o, verify_record, &c, NULL);
  long missing = 0;
  for (long i = 0; i < n; i++) {
    if (!c.seen[ids[i]] && ++missing <= 10) fprintf(stderr, "acked id %ld missing\n", ids[i]);
  }
  if (c.bad) die("%ld corrupt records", c.bad);
  if (missing) die("%ld of %ld acked ids missing (read %ld records)", missing, n, got);
  printf("OK verify-ids topic=%s required=%ld read=%ld\n", o->topic, n, got);
  return 0;
}

int main(int argc, char** argv) {
  static Options o;
  parse_args(argc, argv, &o);
  g_opt = &o;
  g_deliveries = calloc((size_t)o.count + 1, sizeof(Delivery));
  signal(SIGPIPE, SIG_IGN);
  if (strcmp(o.mode, "roundtrip") == 0) return run_roundtrip(&o);
  if (strcmp(o.mode, "produce-acked") == 0) return run_produce_acked(&o);
  if (strcmp(o.mode, "verify-ids") == 0) return run_verify_ids(&o);
  usage();
  return 2;
}
