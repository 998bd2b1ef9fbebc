// A plain Node worker on nestjs-kettle/core, as a user without Nest writes one. It prints one JSON
// line per event and stops on SIGTERM, releasing its lease.
import { Kettle } from 'nestjs-kettle/core';

const kettle = new Kettle({
  redis: process.env.REDIS_URL,
  keyPrefix: process.env.KETTLE_PREFIX,
  nodeId: process.env.NODE_ID,
  interval: 200,
  allowShortInterval: true,
  leaseTtl: 1500,
});
const print = (event) => console.log(JSON.stringify(event));
kettle.onChange((change) => print({ event: 'change', ...change }));
kettle.join('report', {
  run: ({ term }) => print({ event: 'run', nodeId: kettle.nodeId, term }),
});
kettle.start();
print({ event: 'started', nodeId: kettle.nodeId });
process.once('SIGTERM', async () => {
  await kettle.stop();
  print({ event: 'stopped' });
  process.exit(0);
});
