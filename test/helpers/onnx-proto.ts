// Writes ONNX models as protobuf bytes by hand (no ONNX tooling on npm that fits), for tests that
// need a tiny model with a real model's interface. Field numbers from onnx.proto (ModelProto,
// GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto).
type Bytes = number[];

export function varint(n: number): Bytes {
  const out: Bytes = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
export const bytes = (field: number, b: Bytes): Bytes => [...key(field, 2), ...varint(b.length), ...b];
export const str = (field: number, s: string): Bytes => bytes(field, [...Buffer.from(s, 'utf8')]);
export const int = (field: number, n: number): Bytes => [...key(field, 0), ...varint(n)];

/** GraphProto.input (11) / output (12): a float tensor of fixed shape. */
export function valueInfo(name: string, dims: number[]): Bytes {
  const shape = dims.flatMap((d) => bytes(1, int(1, d))); // TensorShapeProto.dim { dim_value }
  const tensorType = [...int(1, 1), ...bytes(2, shape)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))]; // { name, type { tensor_type } }
}

/** A float initializer (TensorProto with float_data). */
export function floatTensor(name: string, dims: number[], v: number[]): Bytes {
  const f = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => f.writeFloatLE(x, i * 4));
  return [...dims.flatMap((d) => int(1, d)), ...int(2, 1), ...bytes(4, [...f]), ...str(8, name)];
}

/** AttributeProto of type INTS (7) or INT (2). */
export const intsAttr = (name: string, v: number[]): Bytes => [...str(1, name), ...int(20, 7), ...v.flatMap((x) => int(8, x))];
export const intAttr = (name: string, v: number): Bytes => [...str(1, name), ...int(20, 2), ...int(3, v)];

export function node(op: string, inputs: string[], outputs: string[], attrs: Bytes[] = []): Bytes {
  return [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(3, `${op}_${outputs[0]}`), ...str(4, op), ...attrs.flatMap((a) => bytes(5, a))];
}

export interface Graph { name: string; nodes: Bytes[]; initializers: Bytes[]; inputs: Bytes[]; outputs: Bytes[] }

/** ModelProto: IR version 8, default-domain opset 13. */
export function onnxModel(g: Graph): Uint8Array {
  const graph = [
    ...g.nodes.flatMap((n) => bytes(1, n)), ...str(2, g.name), ...g.initializers.flatMap((t) => bytes(5, t)),
    ...g.inputs.flatMap((v) => bytes(11, v)), ...g.outputs.flatMap((v) => bytes(12, v)),
  ];
  return Uint8Array.from([...int(1, 8), ...str(2, 'facevault-test'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])]);
}
