// Index-rebuild worker: opens a page of sealed features and encodes them for the search index,
// so the main thread only copies rows in. Decrypted floats are zeroed as soon as encoded.
import { parentPort } from 'node:worker_threads';
import { open } from '../../store/keys/keyring.ts';
import { DIM, ENCODED_BYTES, encodeInto } from '../../search/vector-codes.ts';
import type { DecodeRequest, DecodeReply } from './feature-decoder.ts';

const port = parentPort!;
const tmp = new Float32Array(DIM);
const v = new Float32Array(DIM);
const vBytes = new Uint8Array(v.buffer);

port.on('message', (req: DecodeRequest) => {
  const key = Buffer.from(req.key);
  try {
    const out = req.out;
    let at = 0;
    for (let i = 0; i < req.refs.length; i++) {
      const len = req.lengths[i];
      const sealed = Buffer.from(req.sealed.buffer, req.sealed.byteOffset + at, len);
      at += len;
      const plain = open(key, sealed, `${req.kind}:${req.appId}:${req.refs[i]}`);
      vBytes.set(plain);
      plain.fill(0);
      encodeInto(v, tmp, out, i * ENCODED_BYTES);
    }
    v.fill(0);
    req.sealed.fill(0);
    port.postMessage({ id: req.id, encoded: out, sealed: req.sealed } satisfies DecodeReply, [out.buffer as ArrayBuffer, req.sealed.buffer as ArrayBuffer]);
  } catch (e) {
    req.sealed.fill(0);
    req.out.fill(0);
    port.postMessage({ id: req.id, error: (e as Error).message } satisfies DecodeReply);
  } finally {
    key.fill(0);
  }
});
