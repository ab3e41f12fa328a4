/* librdkafka high-level group consumer for the consumer-group integration tests: one process
 * per member, so a test can SIGKILL a member. It reports every assignment change and every
 * record it consumed (partition, offset, key) to a file, one flushed line each. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  const char* bootstrap;
  const char* topic;
  const char* group;
  const char* out_path;
  const char* instance_id;
  const char* strategy;
  const char* stop_file; /* close (leave the group) once this file exists */
  long exit_after;       /* consume this many records, commit them, close; 0 = no limit */
  int timeout_s;         /* overall deadline */
  const char** extra;
  int n_extra;
} Options;

static volatile sig_atomic_t g_stop;
static FILE* g_out;
static int g_rebalances;
/* Set while rd_kafka_consumer_close runs (it serves the final revoke on this thread). In there
 * the callback must not call rd_kafka_rebalance_protocol() or rd_kafka_assignment(): both wait
 * for a reply from the group thread, which can hang for good once the group is terminating
 * (librdkafka issue 4041, still reported against 2.1.1). */
static int g_closing;
static const char* g_protocol; /* as librdkafka last reported it outside close */

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "group_consumer: FAIL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void) {
  fprintf(stderr,
          "usage: group_consumer --bootstrap B --topic T --group G --out FILE [options]\n"
          "  --instance-id ID (static membership)  --strategy range|roundrobin|"
          "cooperative-sticky\n"
          "  --stop-file F (leave once F exists; SIGTERM/SIGINT do the same)\n"
          "  --exit-after N (consume N records, commit them synchronously, leave)\n"
          "  --timeout S (give up after S seconds, exit 2)  -X key=value\n"
          "output lines: 'rebalance N assign|revoke|error EAGER|COOPERATIVE P,P' then 'assignment "
          "P,P',\n"
          "'msg PARTITION OFFSET KEY', 'committed', 'closed'\n");
  exit(1);
}

static void parse_args(int argc, char** argv, Options* o) {
  memset(o, 0, sizeof(*o));
  o->strategy = "range";
  o->timeout_s = 120;
  o->extra = calloc((size_t)argc, sizeof(char*));
  for (int i = 1; i < argc; i += 2) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
#define ARG(name) (strcmp(a, name) == 0)
    if (ARG("--bootstrap"))
      o->bootstrap = v;
    else if (ARG("--topic"))
      o->topic = v;
    else if (ARG("--group"))
      o->group = v;
    else if (ARG("--out"))
      o->out_path = v;
    else if (ARG("--instance-id"))
      o->instance_id = v;
    else if (ARG("--strategy"))
      o->strategy = v;
    else if (ARG("--stop-file"))
      o->stop_file = v;
    else if (ARG("--exit-after"))
      o->exit_after = atol(v);
    else if (ARG("--timeout"))
      o->timeout_s = atoi(v);
    else if (ARG("-X"))
      o->extra[o->n_extra++] = v;
    else
      usage();
#undef ARG
  }
  if (!o->bootstrap || !o->topic || !o->group || !o->out_path) usage();
}

static void set(rd_kafka_conf_t* conf, const char* k, const char* v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
    die("config %s=%s: %s", k, v, err);
}

static void print_partitions(const rd_kafka_topic_partition_list_t* parts) {
  for (int i = 0; i < parts->cnt; i++)
    fprintf(g_out, "%s%" PRId32, i ? "," : "", parts->elems[i].partition);
}

/* Writes the full current assignment after each change so a test needs only the last line. */
static void report_assignment(rd_kafka_t* rk) {
  rd_kafka_topic_partition_list_t* now = NULL;
  rd_kafka_resp_err_t err = g_closing ? RD_KAFKA_RESP_ERR__DESTROY : rd_kafka_assignment(rk, &now);
  if (err == RD_KAFKA_RESP_ERR__DESTROY) {
    /* The final revoke of rd_kafka_consumer_close revokes everything. */
    fprintf(g_out, "assignment \n");
    fflush(g_out);
    return;
  }
  if (err) die("rd_kafka_assignment: %s", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_sort(now, NULL, NULL);
  fprintf(g_out, "assignment ");
  print_partitions(now);
  fprintf(g_out, "\n");
  fflush(g_out);
  rd_kafka_topic_partition_list_destroy(now);
}

static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* parts, void* opaque) {
  const Options* o = opaque;
  if (!g_closing) g_protocol = rd_kafka_rebalance_protocol(rk);
  if (!g_protocol) /* the first callback is close's own: the configured strategy decides */
    g_protocol = strcmp(o->strategy, "cooperative-sticky") == 0 ? "COOPERATIVE" : "EAGER";
  int cooperative = strcmp(g_protocol, "COOPERATIVE") == 0;
  const char* what = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS   ? "assign"
                     : err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "revoke"
                                                                   : "error";
  fprintf(g_out, "rebalance %d %s %s ", ++g_rebalances, what, g_protocol);
  print_partitions(parts);
  fprintf(g_out, "\n");
  fflush(g_out); /* before the (un)assign call, so a hang in there shows where it was */
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e) die("incremental_assign: %s", rd_kafka_error_string(e));
    } else {
      rd_kafka_assign(rk, parts);
    }
  } else {
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
      if (e) die("incremental_unassign: %s", rd_kafka_error_string(e));
    } else {
      rd_kafka_assign(rk, NULL);
    }
  }
  report_assignment(rk);
}

static rd_kafka_t* make_consumer(const Options* o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o->bootstrap);
  set(conf, "group.id", o->group);
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.partition.eof", "false");
  set(conf, "partition.assignment.strategy", o->strategy);
  if (o->instance_id) set(conf, "group.instance.id", o->instance_id);
  for (int i = 0; i < o->n_extra; i++) {
    char kv[512];
    snprintf(kv, sizeof(kv), "%s", o->extra[i]);
    char* eq = strchr(kv, '=');
    if (!eq) die("-X wants key=value, got %s", o->extra[i]);
    *eq = '\0';
    set(conf, kv, eq + 1);
  }
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  rd_kafka_conf_set_opaque(conf, (void*)o);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!rk) die("rd_kafka_new: %s", err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, o->topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
  if (e) die("subscribe: %s", rd_kafka_err2str(e));
  rd_kafka_topic_partition_list_destroy(topics);
  return rk;
}

int main(int argc, char** argv) {
  Options o;
  parse_args(argc, argv, &o);
  g_out = fopen(o.out_path, "a");
  if (!g_out) die("cannot open %s", o.out_path);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  rd_kafka_t* rk = make_consumer(&o);
  fprintf(g_out, "started %d\n", (int)getpid());
  fflush(g_out);
  const int64_t deadline = now_ms() + (int64_t)o.timeout_s * 1000;
  long consumed = 0;
  int rc = 0;
  while (!g_stop) {
    if (now_ms() > deadline) {
      fprintf(stderr, "group_consumer: deadline of %ds passed\n", o.timeout_s);
      rc = 2;
      break;
    }
    if (o.stop_file && access(o.stop_file, F_OK) == 0) break;
    if (o.exit_after && consumed >= o.exit_after) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      /* Transient errors (coordinator moves, broker restarts) are the client's business. */
      fprintf(stderr, "group_consumer: consume error: %s\n", rd_kafka_message_errstr(m));
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) die("fatal error");
      rd_kafka_message_destroy(m);
      continue;
    }
    fprintf(g_out, "msg %" PRId32 " %" PRId64 " %.*s\n", m->partition, m->offset, (int)m->key_len,
            m->key ? (const char*)m->key : "");
    fflush(g_out);
    consumed++;
    rd_kafka_message_destroy(m);
  }
  if (o.exit_after && consumed >= o.exit_after) {
    /* Commits what the application has seen (the stored offsets), nothing fetched beyond. */
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, NULL, 0);
    if (e) die("commit: %s", rd_kafka_err2str(e));
    fprintf(g_out, "committed\n");
    fflush(g_out);
  }
  g_closing = 1;
  rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk);
  if (e) die("consumer_close: %s", rd_kafka_err2str(e));
  rd_kafka_destroy(rk);
  fprintf(g_out, "closed\n");
  fclose(g_out);
  return rc;
}
