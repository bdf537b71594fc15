// Exits 0 once a Kafka broker answers a real protocol request (metadata via kafkajs admin).
const { Kafka, logLevel } = require('kafkajs');
const broker = process.argv[2];
const kafka = new Kafka({
  clientId: 'hm-wait',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
  connectionTimeout: 1000,
});
const admin = kafka.admin();
admin
  .connect()
  .then(() => admin.describeCluster())
  .then(
    async (c) => {
      await admin.disconnect();
      process.exit(c.brokers.length > 0 ? 0 : 1);
    },
    async () => {
      await admin.disconnect().catch(() => {});
      process.exit(1);
    },
  );
