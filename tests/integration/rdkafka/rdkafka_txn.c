/* librdkafka transactional producer driver for the integration tests (stock C API only).
 * Modes, each printing one JSON line on stdout with what it did:
 *   txn      commit, abort (flushed first, so the aborted records are on the broker), commit:
 *            three transactions of --count keyed records, record i to partition i % P
 *   offsets  consume-transform-produce: a read_committed consumer in --group subscribed to
 *            --input reads --batch records, produces "out-"+value to --topic in a transaction
 *            with the consumer's positions sent by rd_kafka_send_offsets_to_transaction and
 *            commits; the next batch the same, aborted
 *   fence    two producers with one transactional.id: the second's init_transactions fences
 *            the first, whose next commit must fail with a fatal _FENCED/PRODUCER_FENCED
 * Record i of transaction TAG: key "TAG-i", value "value-TAG-i-pP", header tag=TAG.
 * Exit 1 on any unexpected client error (message on stderr), 3 when fence saw no fencing. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  const char* mode;
  const char* bootstrap;
  const char* topic; /* output */
  const char* input; /* offsets: the consumed topic */
  const char* group;
  const char* txn_id;
  int partitions;
  long count;         /* txn/fence: records per transaction */
  long batch;         /* offsets: records consumed per transaction */
  int late_produce;   /* fence: the fenced producer produces once more before committing */
  int timeout_s;      /* deadline of every blocking call */
  const char** extra; /* -X: every client */
  int n_extra;
  const char** cextra; /* -C: the consumer only */
  int n_cextra;
} Options;

/* One produced record; its delivery report fills partition/offset/err. */
typedef struct {
  char key[96];
  char value[256];
  char tag[32];
  int32_t want_partition;
  int32_t partition;
  int64_t offset;
  int err;
  int reported;
} Rec;

static Rec* g_recs;
static long g_nrecs, g_cap;
static Options g_o;

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fflush(stdout);
  fprintf(stderr, "rdkafka_txn: FAIL: ");
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

static int tmo(void) {
  return g_o.timeout_s * 1000;
}

static void usage(void) {
  fprintf(stderr,
          "usage: rdkafka_txn txn|offsets|fence --bootstrap B --topic T [options]\n"
          "  --partitions P (of --topic and --input, default 3)  --count N (records per\n"
          "  transaction, default 9)  --transactional-id ID  --timeout S (each call, default 30)\n"
          "  offsets: --input TOPIC --group G --batch M (records per transaction, default 12)\n"
          "  fence: --late-produce (the fenced producer produces one more record first)\n"
          "  -X key=value (property for every client)  -C key=value (the consumer's only)\n");
  exit(2);
}

static void parse_args(int argc, char** argv, Options* o) {
  memset(o, 0, sizeof(*o));
  o->partitions = 3;
  o->count = 9;
  o->batch = 12;
  o->timeout_s = 30;
  o->extra = calloc((size_t)argc, sizeof(char*));
  o->cextra = calloc((size_t)argc, sizeof(char*));
  if (argc < 2) usage();
  o->mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (++i, 1))
    if (strcmp(a, "--late-produce") == 0)
      o->late_produce = 1;
    else if (ARG("--bootstrap"))
      o->bootstrap = v;
    else if (ARG("--topic"))
      o->topic = v;
    else if (ARG("--input"))
      o->input = v;
    else if (ARG("--group"))
      o->group = v;
    else if (ARG("--transactional-id"))
      o->txn_id = v;
    else if (ARG("--partitions"))
      o->partitions = atoi(v);
    else if (ARG("--count"))
      o->count = atol(v);
    else if (ARG("--batch"))
      o->batch = atol(v);
    else if (ARG("--timeout"))
      o->timeout_s = atoi(v);
    else if (ARG("-X"))
      o->extra[o->n_extra++] = v;
    else if (ARG("-C"))
      o->cextra[o->n_cextra++] = v;
    else
      usage();
#undef ARG
  }
  if (!o->bootstrap || !o->topic || o->partitions < 1 || o->count < 1 || o->batch < 1 ||
      o->timeout_s < 1)
    usage();
  if (strcmp(o->mode, "offsets") == 0 && (!o->input || !o->group)) usage();
  g_cap = o->count * 3 + o->batch * 2 + 16;
  g_recs = calloc((size_t)g_cap, sizeof(Rec));
}

/* ---- JSON output ------------------------------------------------------------------------ */

static void jstr(const char* s, size_t n) {
  putchar('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void jcstr(const char* s) {
  if (s)
    jstr(s, strlen(s));
  else
    printf("null");
}

/* [[partition, offset, key, value], ...] of records first..first+n-1 */
static void jrecs(long first, long n) {
  putchar('[');
  for (long i = first; i < first + n; i++) {
    const Rec* r = &g_recs[i];
    printf("%s[%" PRId32 ",%" PRId64 ",", i > first ? "," : "", r->partition, r->offset);
    jcstr(r->key);
    putchar(',');
    jcstr(r->value);
    putchar(']');
  }
  putchar(']');
}

/* {"code": NAME, "fatal": b, "retriable": b, "txn_requires_abort": b, "message": S} or null */
static void jerror(const rd_kafka_error_t* e) {
  if (!e) {
    printf("null");
    return;
  }
  printf("{\"code\":");
  jcstr(rd_kafka_error_name(e));
  printf(",\"fatal\":%s,\"retriable\":%s,\"txn_requires_abort\":%s,\"message\":",
         rd_kafka_error_is_fatal(e) ? "true" : "false",
         rd_kafka_error_is_retriable(e) ? "true" : "false",
         rd_kafka_error_txn_requires_abort(e) ? "true" : "false");
  jcstr(rd_kafka_error_string(e));
  putchar('}');
}

/* [[partition, offset], ...] in partition order; offset -1001 where there is none */
static void joffsets(const rd_kafka_topic_partition_list_t* l) {
  putchar('[');
  for (int i = 0; i < l->cnt; i++)
    printf("%s[%" PRId32 ",%" PRId64 "]", i ? "," : "", l->elems[i].partition, l->elems[i].offset);
  putchar(']');
}

/* ---- clients ---------------------------------------------------------------------------- */

static void conf_set(rd_kafka_conf_t* conf, const char* k, const char* v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
    die("config %s=%s: %s", k, v, err);
}

static void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  /* Logged only: transport errors are retried by the client, and fatal errors also surface
   * from the API call that hits them, which decides. */
  fprintf(stderr, "rdkafka_txn: %s error_cb: %s: %s\n", rd_kafka_name(rk),
          rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void conf_set_kvs(rd_kafka_conf_t* conf, const char** kvs, int n) {
  for (int i = 0; i < n; i++) {
    char kv[512];
    snprintf(kv, sizeof(kv), "%s", kvs[i]);
    char* eq = strchr(kv, '=');
    if (!eq) die("-X/-C want key=value, got %s", kvs[i]);
    *eq = '\0';
    conf_set(conf, kv, eq + 1);
  }
}

static rd_kafka_conf_t* base_conf(void) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  conf_set(conf, "bootstrap.servers", g_o.bootstrap);
  conf_set(conf, "client.id", "gregor-itest-rdkafka-txn");
  rd_kafka_conf_set_error_cb(conf, error_cb);
  conf_set_kvs(conf, g_o.extra, g_o.n_extra);
  return conf;
}

static void dr_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  Rec* r = &g_recs[(intptr_t)m->_private];
  r->reported = 1;
  r->err = m->err;
  r->partition = m->partition;
  r->offset = m->err ? -1 : m->offset;
}

/* Dies on a client error, naming the call and every property of the error. */
static void check(rd_kafka_error_t* e, const char* what) {
  if (!e) return;
  fflush(stdout);
  fprintf(stderr, "rdkafka_txn: FAIL: %s: %s: %s (fatal=%d retriable=%d txn_requires_abort=%d)\n",
          what, rd_kafka_error_name(e), rd_kafka_error_string(e), rd_kafka_error_is_fatal(e),
          rd_kafka_error_is_retriable(e), rd_kafka_error_txn_requires_abort(e));
  exit(1);
}

/* Waits until metadata shows `topic` with the expected partition count and leaders (this
 * also loads it into the client's cache, so the first produce need not wait for it). */
static void wait_for_topic(rd_kafka_t* rk, const char* topic) {
  int64_t deadline = now_ms() + tmo();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);
  for (;;) {
    const struct rd_kafka_metadata* md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
    int ok = 0;
    if (!e && md->topic_cnt == 1 && !md->topics[0].err &&
        md->topics[0].partition_cnt == g_o.partitions) {
      ok = 1;
      for (int p = 0; p < md->topics[0].partition_cnt; p++)
        if (md->topics[0].partitions[p].leader < 0) ok = 0;
    }
    if (md) rd_kafka_metadata_destroy(md);
    if (ok) break;
    if (now_ms() > deadline)
      die("topic %s with %d partitions not visible in metadata (%s)", topic, g_o.partitions,
          e ? rd_kafka_err2str(e) : "wrong partition count or no leader");
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
  }
  rd_kafka_topic_destroy(rkt);
}

/* A transactional producer with init_transactions done. */
static rd_kafka_t* txn_producer(const char* txn_id) {
  rd_kafka_conf_t* conf = base_conf();
  conf_set(conf, "transactional.id", txn_id);
  conf_set(conf, "linger.ms", "5");
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) die("producer: %s", err);
  wait_for_topic(rk, g_o.topic);
  check(rd_kafka_init_transactions(rk, tmo()), "init_transactions");
  return rk;
}

/* Queues one record (copied) and remembers it; returns its index. */
static long produce(rd_kafka_t* rk, const char* tag, const char* key, const char* value,
                    int32_t partition) {
  if (g_nrecs == g_cap) die("too many records");
  long idx = g_nrecs++;
  Rec* r = &g_recs[idx];
  snprintf(r->key, sizeof(r->key), "%s", key);
  snprintf(r->value, sizeof(r->value), "%s", value);
  snprintf(r->tag, sizeof(r->tag), "%s", tag);
  r->want_partition = partition;
  r->partition = -1;
  r->offset = -1;
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(1);
  rd_kafka_header_add(hdrs, "tag", -1, tag, -1);
  rd_kafka_resp_err_t e = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(g_o.topic), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r->key, strlen(r->key)),
      RD_KAFKA_V_VALUE(r->value, strlen(r->value)), RD_KAFKA_V_HEADERS(hdrs),
      RD_KAFKA_V_OPAQUE((void*)(intptr_t)idx), RD_KAFKA_V_END);
  if (e) {
    rd_kafka_headers_destroy(hdrs);
    die("producev %s: %s", key, rd_kafka_err2str(e));
  }
  rd_kafka_poll(rk, 0);
  return idx;
}

/* Produces record i = 0..count-1 of transaction `tag` to partition i % P; returns the first
 * index. */
static long produce_txn_records(rd_kafka_t* rk, const char* tag) {
  long first = g_nrecs;
  for (long i = 0; i < g_o.count; i++) {
    int32_t p = (int32_t)(i % g_o.partitions);
    char key[96], value[256];
    snprintf(key, sizeof(key), "%s-%ld", tag, i);
    snprintf(value, sizeof(value), "value-%s-%ld-p%d", tag, i, (int)p);
    produce(rk, tag, key, value, p);
  }
  return first;
}

static void flush_or_die(rd_kafka_t* rk, const char* what) {
  rd_kafka_resp_err_t e = rd_kafka_flush(rk, tmo());
  if (e) die("flush (%s): %s, %d still queued", what, rd_kafka_err2name(e), rd_kafka_outq_len(rk));
}

/* Every record first..first+n-1 was acknowledged, in the partition it was sent to. */
static void check_delivered(long first, long n, const char* what) {
  for (long i = first; i < first + n; i++) {
    const Rec* r = &g_recs[i];
    if (!r->reported) die("%s: no delivery report for %s", what, r->key);
    if (r->err)
      die("%s: delivery of %s failed: %s", what, r->key,
          rd_kafka_err2name((rd_kafka_resp_err_t)r->err));
    if (r->partition != r->want_partition || r->offset < 0)
      die("%s: %s delivered to partition %d offset %" PRId64 ", sent to partition %d", what, r->key,
          (int)r->partition, r->offset, (int)r->want_partition);
  }
}

/* ---- txn -------------------------------------------------------------------------------- */

static int run_txn(void) {
  char txn_id[256];
  snprintf(txn_id, sizeof(txn_id), "%s", g_o.txn_id ? g_o.txn_id : "rdkafka-txn");
  rd_kafka_t* p = txn_producer(txn_id);
  static const char* tags[3] = {"txn0", "txn1", "txn2"};
  static const int commit[3] = {1, 0, 1};
  long first[3];
  for (int t = 0; t < 3; t++) {
    check(rd_kafka_begin_transaction(p), "begin_transaction");
    first[t] = produce_txn_records(p, tags[t]);
    if (commit[t]) {
      check(rd_kafka_commit_transaction(p, tmo()), "commit_transaction");
    } else {
      /* abort_transaction purges what is still queued: flush so the records reach the
       * broker and the abort has something to abort there. */
      flush_or_die(p, "before abort");
      check_delivered(first[t], g_o.count, "aborted transaction before the abort");
      check(rd_kafka_abort_transaction(p, tmo()), "abort_transaction");
    }
    rd_kafka_poll(p, 0);
    check_delivered(first[t], g_o.count, tags[t]);
  }
  printf("{\"mode\":\"txn\",\"transactional_id\":");
  jcstr(txn_id);
  printf(",\"transactions\":[");
  for (int t = 0; t < 3; t++) {
    printf("%s{\"tag\":\"%s\",\"outcome\":\"%s\",\"records\":", t ? "," : "", tags[t],
           commit[t] ? "commit" : "abort");
    jrecs(first[t], g_o.count);
    putchar('}');
  }
  printf("]}\n");
  rd_kafka_destroy(p);
  return 0;
}

/* ---- offsets ---------------------------------------------------------------------------- */

typedef struct {
  int32_t partition;
  int64_t offset;
  char key[96];
  char value[160];
} InRec;

/* Polls the consumer until n records arrived; they go to out[0..n-1]. */
static void consume_n(rd_kafka_t* c, InRec* out, long n) {
  int64_t deadline = now_ms() + tmo();
  long got = 0;
  while (got < n) {
    if (now_ms() > deadline) die("consumed only %ld of %ld records from %s", got, n, g_o.input);
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (!m) continue;
    if (m->err) die("consume %s: %s", g_o.input, rd_kafka_message_errstr(m));
    InRec* r = &out[got++];
    r->partition = m->partition;
    r->offset = m->offset;
    snprintf(r->key, sizeof(r->key), "%.*s", m->key ? (int)m->key_len : 0,
             m->key ? (const char*)m->key : "");
    snprintf(r->value, sizeof(r->value), "%.*s", m->payload ? (int)m->len : 0,
             m->payload ? (const char*)m->payload : "");
    rd_kafka_message_destroy(m);
  }
}

static void jinrecs(const InRec* r, long n) {
  putchar('[');
  for (long i = 0; i < n; i++) {
    printf("%s[%" PRId32 ",%" PRId64 ",", i ? "," : "", r[i].partition, r[i].offset);
    jcstr(r[i].key);
    putchar(',');
    jcstr(r[i].value);
    putchar(']');
  }
  putchar(']');
}

static int cmp_tp(const void* a, const void* b) {
  const rd_kafka_topic_partition_t *x = a, *y = b;
  int c = strcmp(x->topic, y->topic);
  if (c) return c;
  return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* The consumer's current assignment with its positions, in partition order. */
static rd_kafka_topic_partition_list_t* positions(rd_kafka_t* c) {
  rd_kafka_topic_partition_list_t* l = NULL;
  rd_kafka_resp_err_t e = rd_kafka_assignment(c, &l);
  if (e) die("assignment: %s", rd_kafka_err2str(e));
  e = rd_kafka_position(c, l);
  if (e) die("position: %s", rd_kafka_err2str(e));
  qsort(l->elems, (size_t)l->cnt, sizeof(*l->elems), cmp_tp);
  return l;
}

/* The group's committed offsets of `parts` as the consumer reads them (OffsetFetch, which
 * under read_committed requires stable offsets). */
static rd_kafka_topic_partition_list_t* committed(rd_kafka_t* c,
                                                  const rd_kafka_topic_partition_list_t* parts) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_copy(parts);
  for (int i = 0; i < l->cnt; i++) l->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
  rd_kafka_resp_err_t e = rd_kafka_committed(c, l, tmo());
  if (e) die("committed: %s", rd_kafka_err2str(e));
  for (int i = 0; i < l->cnt; i++)
    if (l->elems[i].err)
      die("committed %s[%d]: %s", l->elems[i].topic, (int)l->elems[i].partition,
          rd_kafka_err2str(l->elems[i].err));
  return l;
}

static int run_offsets(void) {
  char txn_id[256];
  snprintf(txn_id, sizeof(txn_id), "%s", g_o.txn_id ? g_o.txn_id : "rdkafka-txn-offsets");
  rd_kafka_t* p = txn_producer(txn_id);

  rd_kafka_conf_t* conf = base_conf();
  conf_set(conf, "group.id", g_o.group);
  conf_set(conf, "enable.auto.commit", "false");
  conf_set(conf, "enable.auto.offset.store", "false");
  conf_set(conf, "isolation.level", "read_committed");
  conf_set(conf, "auto.offset.reset", "earliest");
  conf_set(conf, "enable.partition.eof", "false");
  conf_set(conf, "session.timeout.ms", "6000");
  conf_set(conf, "heartbeat.interval.ms", "500");
  conf_set_kvs(conf, g_o.cextra, g_o.n_cextra);
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!c) die("consumer: %s", err);
  rd_kafka_poll_set_consumer(c);
  wait_for_topic(c, g_o.input);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, g_o.input, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(c, sub);
  if (e) die("subscribe %s: %s", g_o.input, rd_kafka_err2str(e));
  rd_kafka_topic_partition_list_destroy(sub);

  InRec* in = calloc((size_t)g_o.batch * 2, sizeof(InRec));
  long first[2];
  rd_kafka_topic_partition_list_t *sent[2], *after[2];
  static const char* outcome[2] = {"commit", "abort"};
  for (int b = 0; b < 2; b++) {
    InRec* batch = in + b * g_o.batch;
    consume_n(c, batch, g_o.batch);
    check(rd_kafka_begin_transaction(p), "begin_transaction");
    char tag[32];
    snprintf(tag, sizeof(tag), "batch%d", b);
    first[b] = g_nrecs;
    for (long i = 0; i < g_o.batch; i++) {
      char value[256];
      snprintf(value, sizeof(value), "out-%s", batch[i].value);
      produce(p, tag, batch[i].key, value, batch[i].partition);
    }
    sent[b] = positions(c);
    rd_kafka_consumer_group_metadata_t* cgmd = rd_kafka_consumer_group_metadata(c);
    if (!cgmd) die("consumer_group_metadata returned NULL");
    check(rd_kafka_send_offsets_to_transaction(p, sent[b], cgmd, tmo()),
          "send_offsets_to_transaction");
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    if (b == 0) {
      check(rd_kafka_commit_transaction(p, tmo()), "commit_transaction");
    } else {
      flush_or_die(p, "before abort");
      check_delivered(first[b], g_o.batch, "aborted transaction before the abort");
      check(rd_kafka_abort_transaction(p, tmo()), "abort_transaction");
    }
    rd_kafka_poll(p, 0);
    check_delivered(first[b], g_o.batch, tag);
    after[b] = committed(c, sent[b]);
  }

  printf("{\"mode\":\"offsets\",\"transactional_id\":");
  jcstr(txn_id);
  printf(",\"group\":");
  jcstr(g_o.group);
  printf(",\"batches\":[");
  for (int b = 0; b < 2; b++) {
    printf("%s{\"outcome\":\"%s\",\"consumed\":", b ? "," : "", outcome[b]);
    jinrecs(in + b * g_o.batch, g_o.batch);
    printf(",\"produced\":");
    jrecs(first[b], g_o.batch);
    printf(",\"offsets_sent\":");
    joffsets(sent[b]);
    printf(",\"committed_after\":");
    joffsets(after[b]);
    putchar('}');
  }
  printf("]}\n");
  fflush(stdout);

  /* Partition lists from a consumer hold references on its partitions: rd_kafka_destroy
   * would wait for them forever. */
  for (int b = 0; b < 2; b++) {
    rd_kafka_topic_partition_list_destroy(sent[b]);
    rd_kafka_topic_partition_list_destroy(after[b]);
  }
  free(in);
  e = rd_kafka_consumer_close(c);
  if (e) die("consumer_close: %s", rd_kafka_err2str(e));
  rd_kafka_destroy(c);
  rd_kafka_destroy(p);
  return 0;
}

/* ---- fence ------------------------------------------------------------------------------ */

static int is_fenced_code(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
}

static int run_fence(void) {
  char txn_id[256];
  snprintf(txn_id, sizeof(txn_id), "%s", g_o.txn_id ? g_o.txn_id : "rdkafka-txn-fence");
  rd_kafka_t* old = txn_producer(txn_id);
  check(rd_kafka_begin_transaction(old), "begin_transaction (first producer)");
  long old_first = produce_txn_records(old, "old");
  flush_or_die(old, "first producer's records");
  check_delivered(old_first, g_o.count, "first producer's transaction");

  /* Same transactional.id: InitProducerId bumps the epoch, fencing `old` and aborting its
   * open transaction. */
  rd_kafka_t* young = txn_producer(txn_id);

  long late = -1;
  if (g_o.late_produce) late = produce(old, "old", "old-late", "value-old-late-p0", 0);
  rd_kafka_error_t* commit_err = rd_kafka_commit_transaction(old, tmo());
  char fatal_str[512] = "";
  rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(old, fatal_str, sizeof(fatal_str));
  rd_kafka_error_t* begin_err = rd_kafka_begin_transaction(old);
  rd_kafka_poll(old, 0);

  check(rd_kafka_begin_transaction(young), "begin_transaction (second producer)");
  long young_first = produce_txn_records(young, "young");
  check(rd_kafka_commit_transaction(young, tmo()), "commit_transaction (second producer)");
  rd_kafka_poll(young, 0);
  check_delivered(young_first, g_o.count, "second producer's transaction");

  printf("{\"mode\":\"fence\",\"transactional_id\":");
  jcstr(txn_id);
  printf(",\"fenced_records\":");
  jrecs(old_first, g_o.count);
  printf(",\"late\":");
  if (late < 0) {
    printf("null");
  } else {
    const Rec* r = &g_recs[late];
    printf("{\"reported\":%s,\"error\":", r->reported ? "true" : "false");
    jcstr(r->reported ? rd_kafka_err2name((rd_kafka_resp_err_t)r->err) : NULL);
    printf(",\"offset\":%" PRId64 "}", r->offset);
  }
  printf(",\"commit_error\":");
  jerror(commit_err);
  printf(",\"fatal_error\":{\"code\":");
  jcstr(rd_kafka_err2name(fatal));
  printf(",\"message\":");
  jcstr(fatal_str);
  printf("},\"begin_after_fatal\":");
  jerror(begin_err);
  printf(",\"committed_records\":");
  jrecs(young_first, g_o.count);
  printf("}\n");
  fflush(stdout);

  int rc = 0;
  if (!commit_err) {
    fprintf(stderr, "rdkafka_txn: FAIL: the fenced producer's commit_transaction succeeded\n");
    rc = 3;
  } else if (!rd_kafka_error_is_fatal(commit_err) ||
             !is_fenced_code(rd_kafka_error_code(commit_err))) {
    fprintf(stderr,
            "rdkafka_txn: FAIL: the fenced producer's commit failed with %s (fatal=%d), "
            "expected a fatal _FENCED or PRODUCER_FENCED: %s\n",
            rd_kafka_error_name(commit_err), rd_kafka_error_is_fatal(commit_err),
            rd_kafka_error_string(commit_err));
    rc = 3;
  }
  if (commit_err) rd_kafka_error_destroy(commit_err);
  if (begin_err) rd_kafka_error_destroy(begin_err);
  rd_kafka_destroy(young);
  rd_kafka_destroy(old);
  return rc;
}

int main(int argc, char** argv) {
  parse_args(argc, argv, &g_o);
  signal(SIGPIPE, SIG_IGN);
  if (strcmp(g_o.mode, "txn") == 0) return run_txn();
  if (strcmp(g_o.mode, "offsets") == 0) return run_offsets();
  if (strcmp(g_o.mode, "fence") == 0) return run_fence();
  usage();
  return 2;
}
