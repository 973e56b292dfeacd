// A tiny ONNX model with a face-swap model's interface, written as protobuf bytes by hand (no
// ONNX tooling on npm that fits): inputs `target` [1,3,S,S] and `source` [1,E], output `output`
// [1,3,S,S] = target + gain·ReduceSum(source) (gain 0 = the target unchanged, yet the source
// must still be fed). Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, ...).

const varint = (n: number): number[] => { const o: number[] = []; while (n > 127) { o.push((n & 127) | 128); n = Math.floor(n / 128); } o.push(n); return o; };
const key = (field: number, wire: number) => varint(field * 8 + wire);
const bytes = (field: number, b: number[]) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)];

function valueInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d))); // TensorShapeProto.dim { dim_value }
  const tensorType = [...int(1, 1), ...bytes(2, shape)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))]; // ValueInfoProto { name, type { tensor_type } }
}
function node(op: string, inputs: string[], outputs: string[]): number[] {
  return [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(3, `${op}_${outputs[0]}`), ...str(4, op)];
}
function scalar(name: string, v: number): number[] {
  const f = Buffer.alloc(4); f.writeFloatLE(v);
  return [...int(1, 1), ...int(2, 1), ...str(8, name), ...bytes(9, [...f])]; // dims [1], FLOAT, name, raw_data
}

export function tinySwapOnnx(size = 128, embedding = 512, gain = 0): Buffer {
  const graph = [
    ...bytes(1, node('ReduceSum', ['source'], ['s'])),
    ...bytes(1, node('Mul', ['s', 'gain'], ['g'])),
    ...bytes(1, node('Add', ['target', 'g'], ['output'])),
    ...str(2, 'tiny_swap'),
    ...bytes(5, scalar('gain', gain)),
    ...bytes(11, valueInfo('target', [1, 3, size, size])),
    ...bytes(11, valueInfo('source', [1, embedding])),
    ...bytes(12, valueInfo('output', [1, 3, size, size])),
  ];
  const model = [...int(1, 7), ...str(2, 'facevault-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])];
  return Buffer.from(model);
}
