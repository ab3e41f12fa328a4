// Rebalance mode: N high-level consumers share a topic in one group; once they all consume, one
// more member joins, and the run times how long until every member consumes again.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "perf.h"

enum { kMaxMembers = 256 };

struct Bench;

typedef struct {
  struct Bench* b;
  int index;
  pthread_t thread;
  // Written by the member's own thread inside its callbacks; read by main under b->mu.
  int64_t subscribe_ns, revoke_ns, assign_ns;
  int64_t record_ns;  // first record under the current assignment, 0 until one arrives
  int assigned;       // partitions held now (0 between a revoke and the next assign)
  int assigns;        // assign callbacks so far
} Member;

typedef struct Bench {
  const Options* o;
  char group[160];
  pthread_mutex_t mu;
  Member members[kMaxMembers];
  atomic_int stop;
  atomic_long records, errors;
  atomic_int first_error;
} Bench;

static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* parts, void* opaque) {
  Member* m = opaque;
  int64_t now = mono_ns();
  // Eager (range) protocol: hand the whole set over or give it all back.
  int assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  rd_kafka_assign(rk, assign ? parts : NULL);
  pthread_mutex_lock(&m->b->mu);
  if (assign) {
    m->assign_ns = now;
    m->assigned = parts->cnt;
    m->record_ns = 0;
    ++m->assigns;
  } else {
    m->revoke_ns = now;
    m->assigned = 0;
  }
  pthread_mutex_unlock(&m->b->mu);
}

static void* member_main(void* arg) {
  Member* m = arg;
  Bench* b = m->b;
  rd_kafka_conf_t* conf = base_conf(b->o);
  set_conf(conf, "group.id", b->group);
  set_conf(conf, "partition.assignment.strategy", "range");
  set_conf(conf, "session.timeout.ms", "10000");
  set_conf(conf, "heartbeat.interval.ms", "1000");
  set_conf(conf, "enable.auto.commit", "false");
  set_conf(conf, "auto.offset.reset", "latest");  // the trickle keeps new records coming
  set_conf(conf, "enable.partition.eof", "false");
  rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  rd_kafka_conf_set_opaque(conf, m);
  rd_kafka_t* rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, b->o->topic, RD_KAFKA_PARTITION_UA);
  pthread_mutex_lock(&b->mu);
  m->subscribe_ns = mono_ns();
  pthread_mutex_unlock(&b->mu);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) die("subscribe", rd_kafka_err2str(err));
  while (!atomic_load(&b->stop)) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, 50);
    if (msg == NULL) continue;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      atomic_fetch_add(&b->records, 1);
      int64_t now = mono_ns();
      pthread_mutex_lock(&b->mu);
      if (m->record_ns == 0 && m->assigned > 0) m->record_ns = now;
      pthread_mutex_unlock(&b->mu);
    } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      int expected = 0;
      atomic_compare_exchange_strong(&b->first_error, &expected, (int)msg->err);
      atomic_fetch_add(&b->errors, 1);
    }
    rd_kafka_message_destroy(msg);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return NULL;
}

typedef struct {
  rd_kafka_t* rk;
  const Options* o;
  atomic_int* stop;
} Trickle;

// One small record to every partition every 20 ms, so that a member with partitions sees a
// record soon after its fetches start, whatever it was assigned.
static void* trickle_main(void* arg) {
  Trickle* t = arg;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(t->rk, t->o->topic, NULL);
  while (!atomic_load(t->stop)) {
    for (int p = 0; p < t->o->partitions; ++p) {
      rd_kafka_produce(rkt, p, RD_KAFKA_MSG_F_COPY, "tick", 4, NULL, 0, NULL);
    }
    rd_kafka_poll(t->rk, 20);
  }
  rd_kafka_flush(t->rk, 2000);
  rd_kafka_topic_destroy(rkt);
  return NULL;
}

// True once members [0, n) each hold partitions, together hold them all, and each has received
// a record under its current assignment (and, for those in `after`, assigned after that count).
static int all_consuming(Bench* b, int n, const int* after) {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    const Member* m = &b->members[i];
    if (m->assigned == 0 || m->record_ns == 0) return 0;
    if (after != NULL && m->assigns <= after[i]) return 0;
    total += m->assigned;
  }
  return total == b->o->partitions;
}

static double ms(int64_t ns) {
  return ns / 1e6;
}

int run_rebalance(const Options* o) {
  int n = o->members;
  if (n < 1 || n + 1 > kMaxMembers) die("rebalance", "--members out of range");
  static Bench b;
  memset(&b, 0, sizeof b);
  b.o = o;
  pthread_mutex_init(&b.mu, NULL);
  snprintf(b.group, sizeof b.group, "perf-rebalance-%s-%d", o->topic, (int)getpid());

  rd_kafka_conf_t* pconf = base_conf(o);
  set_conf(pconf, "linger.ms", "5");
  // --acks (default 1): with acks=all the trickle's fsyncs would queue ahead of the group's own
  // writes, which is a different measurement.
  set_conf(pconf, "acks", o->acks);
  rd_kafka_t* producer = new_client(RD_KAFKA_PRODUCER, pconf);
  int64_t deadline = mono_ns() + (int64_t)o->timeout_s * 1000000000;
  while (partition_count(producer, o->topic) < o->partitions && mono_ns() < deadline) {
    usleep(100000);
  }
  if (partition_count(producer, o->topic) < o->partitions) die("rebalance", "topic not ready");
  Trickle trickle = {producer, o, &b.stop};
  pthread_t trickle_thread;
  pthread_create(&trickle_thread, NULL, trickle_main, &trickle);

  int64_t t_start = mono_ns();
  for (int i = 0; i <= n; ++i) {
    b.members[i].b = &b;
    b.members[i].index = i;
  }
  for (int i = 0; i < n; ++i)
    pthread_create(&b.members[i].thread, NULL, member_main, &b.members[i]);

  const char* error = "";
  int ok = 0;
  int after[kMaxMembers] = {0};
  int64_t stable_ns = 0, join_ns = 0, done_ns = 0;
  // Taken when the run is decided: closing the consumers afterwards calls revoke again.
  static Member snap[kMaxMembers];
  for (;;) {
    pthread_mutex_lock(&b.mu);
    int ready = all_consuming(&b, n, NULL);
    pthread_mutex_unlock(&b.mu);
    if (ready) break;
    if (mono_ns() > deadline) {
      error = "the first members never all consumed";
      goto out;
    }
    usleep(5000);
  }
  stable_ns = mono_ns() - t_start;
  // A short settle so that a late second rebalance of the first join is not mistaken for ours.
  usleep(500000);
  pthread_mutex_lock(&b.mu);
  if (!all_consuming(&b, n, NULL)) {
    pthread_mutex_unlock(&b.mu);
    error = "group not stable after the first members joined";
    goto out;
  }
  for (int i = 0; i < n; ++i) after[i] = b.members[i].assigns;
  after[n] = 0;
  pthread_mutex_unlock(&b.mu);

  pthread_create(&b.members[n].thread, NULL, member_main, &b.members[n]);
  for (;;) {
    pthread_mutex_lock(&b.mu);
    int ready = b.members[n].subscribe_ns != 0 && all_consuming(&b, n + 1, after);
    if (ready) {
      join_ns = b.members[n].subscribe_ns;
      memcpy(snap, b.members, sizeof(Member) * (n + 1));
      for (int i = 0; i <= n; ++i) {
        if (snap[i].record_ns > done_ns) done_ns = snap[i].record_ns;
      }
    }
    pthread_mutex_unlock(&b.mu);
    if (ready) break;
    if (mono_ns() > deadline) {
      error = "members did not all consume again after the join";
      goto out;
    }
    usleep(2000);
  }
  ok = 1;

out:
  atomic_store(&b.stop, 1);
  for (int i = 0; i <= n; ++i) {
    if (b.members[i].b != NULL && b.members[i].thread != 0) pthread_join(b.members[i].thread, NULL);
  }
  pthread_join(trickle_thread, NULL);
  rd_kafka_destroy(producer);

  // Old members: revoke -> assign is their poll-and-rejoin. The newcomer has no revoke.
  int64_t max_rejoin = 0, min_rejoin = INT64_MAX, first_revoke = INT64_MAX, last_revoke = 0,
          last_assign = 0;
  for (int i = 0; ok && i < n; ++i) {
    const Member* m = &snap[i];
    int64_t r = m->assign_ns - m->revoke_ns;
    if (r > max_rejoin) max_rejoin = r;
    if (r < min_rejoin) min_rejoin = r;
    if (m->revoke_ns < first_revoke) first_revoke = m->revoke_ns;
    if (m->revoke_ns > last_revoke) last_revoke = m->revoke_ns;
  }
  for (int i = 0; ok && i <= n; ++i) {
    if (snap[i].assign_ns > last_assign) last_assign = snap[i].assign_ns;
  }
  if (!ok) min_rejoin = first_revoke = join_ns = 0;
  printf(
      "{\"ok\":%s,\"mode\":\"rebalance\",\"target\":\"%s\",\"topic\":\"%s\",\"group\":\"%s\","
      "\"members\":%d,\"partitions\":%d,\"acks\":\"%s\",\"error\":\"%s%s%s\",\"stable_ms\":%.1f,"
      "\"rebalance_ms\":%.1f,\"max_rejoin_ms\":%.1f,\"min_rejoin_ms\":%.1f,"
      "\"new_member_join_ms\":%.1f,\"first_revoke_ms\":%.1f,\"last_revoke_ms\":%.1f,"
      "\"last_assign_ms\":%.1f,\"records\":%ld,\"errors\":%ld}\n",
      ok ? "true" : "false", o->mock ? "mock" : "broker", o->topic, b.group, n, o->partitions,
      o->acks, error, atomic_load(&b.first_error) ? " / first consumer error " : "",
      atomic_load(&b.first_error) ? rd_kafka_err2name(atomic_load(&b.first_error)) : "",
      ms(stable_ns), ok ? ms(done_ns - join_ns) : -1.0, ok ? ms(max_rejoin) : -1.0,
      ok ? ms(min_rejoin) : -1.0, ok ? ms(snap[n].assign_ns - join_ns) : -1.0,
      ok ? ms(first_revoke - join_ns) : -1.0, ok ? ms(last_revoke - join_ns) : -1.0,
      ok ? ms(last_assign - join_ns) : -1.0, atomic_load(&b.records), atomic_load(&b.errors));
  fflush(stdout);
  return ok ? 0 : 1;
}
