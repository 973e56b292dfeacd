// Test-only inference worker: loads nothing, then spins forever on the first request, as the
// BMP mask loop did. Its stop message is never read, so only terminate() can end it.
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m && m.type === 'close') process.exit(0);
  else for (;;);
});
parentPort.postMessage({ type: 'ready', version: 'hang-test' });
parentPort.postMessage({ type: 'complete', available: [] });
