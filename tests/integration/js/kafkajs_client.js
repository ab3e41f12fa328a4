// kafkajs 2.2.4 driver for test_kafkajs.py: creates a topic with the admin client and produces
// numbered records (key, headers, timestamp) to explicit partitions, or consumes with a group.
// usage: node kafkajs_client.js produce|consume <bootstrap> <topic> <partitions> <count> [gzip]
'use strict';
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const BASE_TS = 1700000000000;

async function produce(kafka, topic, partitions, count, codec) {
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const listed = await admin.listTopics();
  if (!listed.includes(topic)) throw new Error(`topic ${topic} not listed after create`);
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  if (md.topics[0].partitions.length !== partitions) {
    throw new Error(`expected ${partitions} partitions, metadata says ${md.topics[0].partitions.length}`);
  }
  await admin.disconnect();

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = 500;
  for (let start = 0; start < count; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      messages.push({
        key: `k${i}`,
        value: `value-${i}-`.repeat(4),
        partition: i % partitions,
        headers: { h1: String(i), h2: 'x' },
        timestamp: String(BASE_TS + i * 10),
      });
    }
    const res = await producer.send({
      topic, messages, acks: -1,
      compression: codec === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
    });
    for (const r of res) {
      if (r.errorCode !== 0) throw new Error(`produce error ${JSON.stringify(r)}`);
    }
  }
  await producer.disconnect();
  console.log(`OK kafkajs produce topic=${topic} created=${created} count=${count}`);
}

async function consume(kafka, topic, count) {
  const consumer = kafka.consumer({ groupId: 'gregor-itest-kafkajs' });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    consumer.run({
      eachMessage: async () => {
        if (++seen === count) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  console.log(`OK kafkajs consume topic=${topic} count=${seen}`);
}

async function main() {
  const [mode, bootstrap, topic, partitions, count, codec] = process.argv.slice(2);
  const kafka = new Kafka({
    clientId: 'gregor-itest-kafkajs', brokers: [bootstrap], logLevel: logLevel.WARN,
    retry: { retries: 5 },
  });
  if (mode === 'produce') await produce(kafka, topic, Number(partitions), Number(count), codec);
  else if (mode === 'consume') await consume(kafka, topic, Number(count));
  else throw new Error(`unknown mode ${mode}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(`kafkajs FAIL: ${e.stack || e}`);
  process.exit(1);
});
