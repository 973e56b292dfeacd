// One inference worker: decodes and analyzes on its own thread with its own ORT sessions
// (one intra-op thread each), so the main event loop never runs a model.
import { parentPort, workerData } from 'node:worker_threads';
import { FaceAnalyzer } from './face-analyzer.ts';
import { decodeImage } from './image-decode.ts';
import type { WorkerInit, WorkerRequest, WorkerReply } from './inference-protocol.ts';
import { serializeError } from './inference-protocol.ts';
import type { RgbImage } from './types.ts';
import { installStopFlags } from './worker-stop.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
installStopFlags(init.stopFlags);

// The pool asks a worker to stop with a message instead of Worker.terminate(): terminating a
// thread inside ONNX Runtime's native code (a session load or run) aborts the whole process.
// A message is handled between native calls, so exiting here is safe. Listening from the
// start covers a stop that arrives while the models are still loading.
port.on('message', (m: WorkerRequest | { type: 'close' } | null) => {
  if (m && 'type' in m && m.type === 'close') process.exit(0);
});

async function main() {
  let analyzer: FaceAnalyzer;
  try {
    analyzer = await FaceAnalyzer.load({ set: init.modelSet, extraModelSetDirs: init.extraModelSetDirs, tasks: init.tasks, livenessModelDir: init.livenessModelDir, background: true });
  } catch (e) {
    port.postMessage({ type: 'failed', error: serializeError(e) } satisfies WorkerReply);
    return;
  }
  port.postMessage({ type: 'ready', version: analyzer.set.version } satisfies WorkerReply);
  analyzer.optionalReady.then(
    () => port.postMessage({ type: 'complete', available: analyzer.available } satisfies WorkerReply),
    (e) => port.postMessage({ type: 'failed', error: serializeError(e) } satisfies WorkerReply),
  );
  port.on('message', async (req: WorkerRequest) => {
    if (req && 'type' in req) return; // control message (close), handled above
    try {
      let img: RgbImage;
      let format: string | undefined;
      if (req.bytes) {
        const d = await decodeImage(req.bytes, req.limits);
        img = { width: d.width, height: d.height, data: d.data };
        format = d.format;
      } else {
        img = { width: req.image!.width, height: req.image!.height, data: Buffer.from(req.image!.data.buffer, req.image!.data.byteOffset, req.image!.data.byteLength) };
      }
      const result = await analyzer.analyze(img, req.opts);
      const transfer: ArrayBuffer[] = [];
      for (const f of result.faces) if (f.embedding) transfer.push(f.embedding.buffer as ArrayBuffer);
      let image: { width: number; height: number; data: Uint8Array; format?: string } | undefined;
      if (req.returnImage && req.bytes) {
        // Copy out of Buffer's shared pool so the transfer moves only this image.
        const own = new Uint8Array(img.data.byteLength);
        own.set(img.data);
        image = { width: img.width, height: img.height, data: own, format };
        transfer.push(own.buffer);
      }
      port.postMessage({ type: 'result', id: req.id, result, format, image } satisfies WorkerReply, transfer);
    } catch (e) {
      port.postMessage({ type: 'error', id: req.id, error: serializeError(e) } satisfies WorkerReply);
    }
  });
}

void main();
