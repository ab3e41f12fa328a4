// Shared pieces of gregor_perf: options, clocks, CPU accounting, client set-up, and the entry
// point of each mode. One header for the bench's small C library (bench/perf/*.c).
#ifndef GREGOR_BENCH_PERF_PERF_H_
#define GREGOR_BENCH_PERF_PERF_H_

#include <librdkafka/rdkafka.h>
#include <stdint.h>

enum { kMaxConfigs = 32 };

typedef struct {
  const char* mode;
  const char* bootstrap;
  const char* topic;
  int mock;
  long records;
  int record_size;
  const char* acks;
  int partitions;
  int replication_factor;
  int linger_ms;
  int batch_size;
  int batch_num_messages;
  double rate;          // records/s; 0 means as fast as the client can go
  long warmup_records;  // the first ones are sent but left out of the latency figures
  int timeout_s;
  int members;                       // rebalance: consumers in the group before one more joins
  int groups;                        // commit: groups, one committing consumer each
  double duration_s;                 // commit: length of the timed window
  long txn_records;                  // txn: records per transaction
  const char* configs[kMaxConfigs];  // extra librdkafka "key=value" settings
  int config_count;
} Options;

int64_t mono_ns(void);
double process_cpu_s(void);
// CPU seconds of the mock cluster's thread in this process, or -1 when there is none.
double mock_thread_cpu_s(void);
// Prints a failed JSON result line and exits: the driver's way of giving up on a run.
void die(const char* what, const char* detail);
void set_conf(rd_kafka_conf_t* conf, const char* key, const char* value);
void set_conf_int(rd_kafka_conf_t* conf, const char* key, long value);
// bootstrap.servers, client.id and the --config pairs.
rd_kafka_conf_t* base_conf(const Options* o);
rd_kafka_t* new_client(rd_kafka_type_t type, rd_kafka_conf_t* conf);
int partition_count(rd_kafka_t* rk, const char* topic);

// Mode entry points: each prints one JSON line (unless report is 0) and returns the exit code.
int run_produce(const Options* o, int report);
int run_consume(const Options* o);
int run_create_topic(const Options* o);
int run_offsets(const Options* o);
int run_rebalance(const Options* o);
int run_commit(const Options* o);
int run_txn(const Options* o);

#endif  // GREGOR_BENCH_PERF_PERF_H_
