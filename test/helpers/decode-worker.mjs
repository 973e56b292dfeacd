// Decodes images sent by the test on its own thread, so a decoder that never returns shows as a
// missed deadline (the test terminates this thread) instead of freezing the test process.
import { register } from 'tsx/esm/api';
register();
const { parentPort } = await import('node:worker_threads');
const { decodeImage } = await import('../../src/vision/image-decode.ts');
parentPort.on('message', async (bytes) => {
  try {
    const d = await decodeImage(bytes);
    parentPort.postMessage({ ok: true, width: d.width, height: d.height });
  } catch (e) {
    parentPort.postMessage({ ok: false, name: e.name, kind: e.kind, message: e.message });
  }
});
parentPort.postMessage({ ready: true });
