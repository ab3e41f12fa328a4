// kafkajs 2.2.4 driver for test_kafkajs_transactions.py: the idempotent producer, the
// transactional producer (commit, abort, sendOffsets) and a read_committed group consumer.
// Each mode prints one JSON line on stdout; the Python test checks it.
// usage:
//   node txn_client.js idempotent <bootstrap> <topic> <partitions> <count>
//   node txn_client.js transactions <bootstrap> <topic> <partitions> <per-partition> <txn-id>
//   node txn_client.js consume <bootstrap> <topic> <group> <count>
//   node txn_client.js send-offsets <bootstrap> <in-topic> <out-topic> <group> <txn-id>
//       <committed offsets JSON> <aborted offsets JSON>   (JSON: {"<partition>": offset})
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const BASE_TS = 1700000000000;
const DEADLINE_MS = 30000 * Number(process.env.GREGOR_ITEST_SLOWDOWN || '1');

// The records of client_helpers.record(i, partitions), so check_records can verify them.
function numbered(i, partitions) {
  return {
    key: `k${i}`,
    value: `value-${i}-`.repeat(4),
    partition: i % partitions,
    headers: { h1: String(i), h2: 'x' },
    timestamp: String(BASE_TS + i * 10),
  };
}

async function idempotent(kafka, topic, partitions, count) {
  const producer = kafka.producer({
    idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const chunk = 250;
  let sends = 0;
  for (let start = 0; start < count; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) messages.push(numbered(i, partitions));
    // Idempotence requires acks=-1; kafkajs refuses anything else with it on.
    const res = await producer.send({ topic, messages, acks: -1 });
    for (const r of res) {
      if (r.errorCode !== 0) throw new Error(`produce error ${JSON.stringify(r)}`);
    }
    sends++;
  }
  await producer.disconnect();
  console.log(JSON.stringify({ ok: true, count, sends }));
}

// Three transactions in a row on every partition: committed (c1-), aborted (a-), committed
// (c2-), each written with two sends (two batches per partition).
async function transactions(kafka, topic, partitions, per, transactionalId) {
  const producer = kafka.producer({
    transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false,
  });
  await producer.connect();
  const plan = [['c1', 'commit'], ['a', 'abort'], ['c2', 'commit']];
  const sent = {};
  for (const [prefix, end] of plan) {
    const txn = await producer.transaction();
    const keys = [];
    for (let half = 0; half < 2; half++) {
      const messages = [];
      for (let p = 0; p < partitions; p++) {
        for (let j = half * Math.ceil(per / 2); j < Math.min(per, (half + 1) * Math.ceil(per / 2)); j++) {
          const key = `${prefix}-${p}-${j}`;
          messages.push({ key, value: `${key}-value`, partition: p });
          keys.push(key);
        }
      }
      await txn.send({ topic, messages, acks: -1 });
    }
    if (end === 'commit') await txn.commit();
    else await txn.abort();
    sent[prefix] = keys;
  }
  await producer.disconnect();
  console.log(JSON.stringify({ ok: true, sent }));
}

async function consume(kafka, topic, group, count) {
  const consumer = kafka.consumer({
    groupId: group, readUncommitted: false, sessionTimeout: 10000, heartbeatInterval: 1000,
    rebalanceTimeout: 20000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const msgs = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `timed out with ${msgs.length} of ${count} records: ${JSON.stringify(msgs.slice(-5))}`)),
    DEADLINE_MS);
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (msgs.length >= count) return;
        msgs.push([partition, Number(message.offset), message.key.toString(),
          message.value.toString()]);
        if (msgs.length === count) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify({ ok: true, msgs }));
}

function offsetTopics(topic, offsets) {
  return [{
    topic,
    partitions: Object.entries(offsets).map(([p, o]) => ({ partition: Number(p), offset: String(o) })),
  }];
}

async function groupOffsets(admin, group, topic) {
  const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const out = {};
  for (const p of res[0].partitions) out[p.partition] = Number(p.offset);
  return out;
}

// Polls the group's committed offsets until they equal `want` or the deadline passes; returns
// what it saw last (the caller asserts).
async function awaitOffsets(admin, group, topic, want) {
  const deadline = Date.now() + DEADLINE_MS;
  let seen;
  for (;;) {
    seen = await groupOffsets(admin, group, topic);
    const match = Object.entries(want).every(([p, o]) => seen[p] === Number(o));
    if (match || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A consume-transform-produce cycle: records to out-topic and the group's offsets of in-topic
// in one transaction, committed; then the same with other offsets, aborted; then one more
// committed record.
async function sendOffsets(kafka, inTopic, outTopic, group, transactionalId, committed, aborted) {
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false,
  });
  await producer.connect();

  let txn = await producer.transaction();
  await txn.send({ topic: outTopic, messages: [{ key: 'committed', value: 'x' }], acks: -1 });
  await txn.sendOffsets({ consumerGroupId: group, topics: offsetTopics(inTopic, committed) });
  await txn.commit();
  const afterCommit = await awaitOffsets(admin, group, inTopic, committed);

  txn = await producer.transaction();
  await txn.send({ topic: outTopic, messages: [{ key: 'aborted', value: 'y' }], acks: -1 });
  await txn.sendOffsets({ consumerGroupId: group, topics: offsetTopics(inTopic, aborted) });
  await txn.abort();
  const afterAbort = await groupOffsets(admin, group, inTopic);

  // A last committed record, so a read_committed reader knows when it has passed the abort.
  txn = await producer.transaction();
  await txn.send({ topic: outTopic, messages: [{ key: 'tail', value: 'z' }], acks: -1 });
  await txn.commit();

  await producer.disconnect();
  await admin.disconnect();
  console.log(JSON.stringify({ ok: true, afterCommit, afterAbort }));
}

async function main() {
  const [mode, bootstrap, ...args] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'gregor-itest-kafkajs-txn', brokers: [bootstrap], logLevel: logLevel.WARN,
    retry: { retries: 8 },
  });
  if (mode === 'idempotent') {
    await idempotent(kafka, args[0], Number(args[1]), Number(args[2]));
  } else if (mode === 'transactions') {
    await transactions(kafka, args[0], Number(args[1]), Number(args[2]), args[3]);
  } else if (mode === 'consume') {
    await consume(kafka, args[0], args[1], Number(args[2]));
  } else if (mode === 'send-offsets') {
    await sendOffsets(kafka, args[0], args[1], args[2], args[3], JSON.parse(args[4]),
      JSON.parse(args[5]));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`kafkajs FAIL: ${e.stack || e}`);
  process.exit(1);
});
