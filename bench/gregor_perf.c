// gregor_perf: producer/consumer perf driver on librdkafka, like Kafka's producer-perf-test and
// consumer-perf-test. Runs against a broker or, with --mock, librdkafka's in-memory mock cluster
// (the reference). Prints one JSON line per run; bench/run_bench.py drives the matrix.
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf/perf.h"

static void usage(void) {
  fprintf(stderr,
          "usage: gregor_perf --mode MODE [--mock]\n"
          "  MODE: produce|consume|create-topic|wait-topic|offsets|rebalance|commit|txn\n"
          "  [--bootstrap H:P] [--topic T] [--records N] [--record-size B] [--acks 0|1|all]\n"
          "  [--partitions P] [--replication-factor R] [--linger-ms L] [--batch-size B]\n"
          "  [--batch-num-messages N] [--rate R (records/s, 0 = unlimited)] [--timeout-s S]\n"
          "  [--warmup-records N (left out of latency)]\n"
          "  [--members N (rebalance, default 10)] [--groups G (commit, default 100)]\n"
          "  [--duration-s S (commit, default 10)] [--txn-records N (txn, default 100)]\n"
          "  [--config key=value]...\n");
  exit(2);
}

static Options parse_options(int argc, char** argv) {
  Options o = {.mode = "produce",
               .bootstrap = "127.0.0.1:9092",
               .topic = "gregor-perf",
               .records = 100000,
               .record_size = 100,
               .acks = "1",
               .partitions = 1,
               .replication_factor = 1,
               .linger_ms = 5,
               .timeout_s = 120,
               .members = 10,
               .groups = 100,
               .duration_s = 10,
               .txn_records = 100};
  static const struct option kLong[] = {{"mode", required_argument, 0, 'm'},
                                        {"bootstrap", required_argument, 0, 'b'},
                                        {"topic", required_argument, 0, 't'},
                                        {"mock", no_argument, 0, 'M'},
                                        {"records", required_argument, 0, 'n'},
                                        {"record-size", required_argument, 0, 's'},
                                        {"acks", required_argument, 0, 'a'},
                                        {"partitions", required_argument, 0, 'p'},
                                        {"linger-ms", required_argument, 0, 'l'},
                                        {"batch-size", required_argument, 0, 'B'},
                                        {"rate", required_argument, 0, 'r'},
                                        {"batch-num-messages", required_argument, 0, 'N'},
                                        {"timeout-s", required_argument, 0, 'T'},
                                        {"replication-factor", required_argument, 0, 'R'},
                                        {"warmup-records", required_argument, 0, 'W'},
                                        {"config", required_argument, 0, 'X'},
                                        {"members", required_argument, 0, 'G'},
                                        {"groups", required_argument, 0, 'g'},
                                        {"duration-s", required_argument, 0, 'D'},
                                        {"txn-records", required_argument, 0, 'x'},
                                        {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", kLong, NULL)) != -1) {
    switch (c) {
      case 'm':
        o.mode = optarg;
        break;
      case 'b':
        o.bootstrap = optarg;
        break;
      case 't':
        o.topic = optarg;
        break;
      case 'M':
        o.mock = 1;
        break;
      case 'n':
        o.records = atol(optarg);
        break;
      case 's':
        o.record_size = atoi(optarg);
        break;
      case 'a':
        o.acks = optarg;
        break;
      case 'p':
        o.partitions = atoi(optarg);
        break;
      case 'l':
        o.linger_ms = atoi(optarg);
        break;
      case 'B':
        o.batch_size = atoi(optarg);
        break;
      case 'N':
        o.batch_num_messages = atoi(optarg);
        break;
      case 'r':
        o.rate = atof(optarg);
        break;
      case 'T':
        o.timeout_s = atoi(optarg);
        break;
      case 'R':
        o.replication_factor = atoi(optarg);
        break;
      case 'W':
        o.warmup_records = atol(optarg);
        break;
      case 'G':
        o.members = atoi(optarg);
        break;
      case 'g':
        o.groups = atoi(optarg);
        break;
      case 'D':
        o.duration_s = atof(optarg);
        break;
      case 'x':
        o.txn_records = atol(optarg);
        break;
      case 'X':
        if (o.config_count == kMaxConfigs) usage();
        o.configs[o.config_count++] = optarg;
        break;
      default:
        usage();
    }
  }
  if ((strcmp(o.mode, "produce") == 0 || strcmp(o.mode, "txn") == 0) && o.records < 1) usage();
  if (optind != argc || o.records < 0 || o.warmup_records < 0 || o.record_size < 0 ||
      o.partitions < 1 || o.timeout_s < 1 || o.rate < 0 || o.members < 1 || o.groups < 1 ||
      o.duration_s <= 0 || o.txn_records < 1) {
    usage();
  }
  return o;
}

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  rd_kafka_t* mock_owner = NULL;
  rd_kafka_mock_cluster_t* mcluster = NULL;
  if (o.mock) {
    // The mock cluster needs a client handle for its bookkeeping; it runs on its own thread.
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set_conf(conf, "log_level", "3");  // it never connects anywhere; silence that warning
    mock_owner = new_client(RD_KAFKA_PRODUCER, conf);
    mcluster = rd_kafka_mock_cluster_new(mock_owner, 1);
    if (mcluster == NULL) die("mock", "rd_kafka_mock_cluster_new failed");
    o.bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, o.topic, o.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) die("mock topic", rd_kafka_err2str(err));
  }
  int rc;
  if (strcmp(o.mode, "produce") == 0) {
    rc = run_produce(&o, 1);
  } else if (strcmp(o.mode, "consume") == 0) {
    rc = run_consume(&o);
  } else if (strcmp(o.mode, "create-topic") == 0 || strcmp(o.mode, "wait-topic") == 0) {
    rc = run_create_topic(&o);
  } else if (strcmp(o.mode, "offsets") == 0) {
    rc = run_offsets(&o);
  } else if (strcmp(o.mode, "rebalance") == 0) {
    rc = run_rebalance(&o);
  } else if (strcmp(o.mode, "commit") == 0) {
    rc = run_commit(&o);
  } else if (strcmp(o.mode, "txn") == 0) {
    rc = run_txn(&o);
  } else {
    usage();
    rc = 2;
  }
  if (mcluster != NULL) rd_kafka_mock_cluster_destroy(mcluster);
  if (mock_owner != NULL) rd_kafka_destroy(mock_owner);
  return rc;
}
