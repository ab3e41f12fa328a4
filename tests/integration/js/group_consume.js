// kafkajs 2.2.4 group consumer for test_groups_resume.py: joins a group, consumes `count`
// records, commits exactly what it consumed and leaves; prints one JSON line with the ids.
// usage: node group_consume.js <bootstrap> <topic> <group> <count>
'use strict';
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, group, countArg] = process.argv.slice(2);
  const count = Number(countArg);
  const kafka = new Kafka({
    clientId: 'gregor-itest-kafkajs-group', brokers: [bootstrap], logLevel: logLevel.WARN,
    retry: { retries: 8 },
  });
  const consumer = kafka.consumer({
    groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000, rebalanceTimeout: 20000,
  });
  let groupJoins = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => { groupJoins++; });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const ids = [];
  const next = {}; // partition -> next offset to commit
  await new Promise((resolve, reject) => {
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (ids.length >= count) return;
        ids.push(Number(message.key.toString().slice(1)));
        next[partition] = (BigInt(message.offset) + 1n).toString();
        if (ids.length === count) resolve();
      },
    }).catch(reject);
  });
  const offsets = Object.entries(next).map(
    ([p, o]) => ({ topic, partition: Number(p), offset: o }));
  await consumer.commitOffsets(offsets);
  await consumer.disconnect();
  console.log(JSON.stringify({ ids, committed: next, groupJoins }));
}

main().then(() => process.exit(0), (e) => {
  console.error(`kafkajs FAIL: ${e.stack || e}`);
  process.exit(1);
});
