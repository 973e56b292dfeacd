// Builds a tiny ONNX model as protobuf bytes (no onnx tooling in node): a MiniFASNet-shaped
// anti-spoofing stand-in, input [1,3,S,S] -> per-channel mean -> fixed 3x3 linear map -> logits
// [1,3]. With W = 0.1 x (R -> class 0, G -> class 1, B -> class 2) on BGR planes, a green image is
// "live" (class 1) and a red one "spoof-print" (class 0), so a test can pick the answer by colour.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) { out.push((n & 127) | 128); n >>>= 7; }
  out.push(n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const bytes = (field: number, b: number[]) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const int = (field: number, n: number) => [...key(field, 0), ...varint(n)];
const floats = (field: number, v: number[]) => { const b = Buffer.alloc(v.length * 4); v.forEach((x, i) => b.writeFloatLE(x, i * 4)); return bytes(field, [...b]); };

function tensorType(dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));
  return bytes(1, [...int(1, 1), ...bytes(2, shape)]); // TypeProto.tensor_type{elem_type FLOAT, shape}
}
const valueInfo = (field: number, name: string, dims: number[]) => bytes(field, [...str(1, name), ...bytes(2, tensorType(dims))]);
const initializer = (name: string, dims: number[], v: number[]) => bytes(5, [...dims.flatMap((d) => int(1, d)), ...int(2, 1), ...floats(4, v), ...str(8, name)]);
function node(op: string, inputs: string[], outputs: string[], attrs: number[][] = []): number[] {
  return bytes(1, [...inputs.flatMap((i) => str(1, i)), ...outputs.flatMap((o) => str(2, o)), ...str(4, op), ...attrs.flatMap((a) => bytes(5, a))]);
}

/** W is 3x3 row-major: logits = mean(BGR planes) · W + b. */
export function meanLinearOnnx(size = 80, W = [0, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0], b = [0, 0, 0], inputName = 'input'): Uint8Array {
  const axes = [...str(1, 'axes'), ...int(20, 7), ...int(8, 2), ...int(8, 3)]; // AttributeProto INTS
  const keepdims = [...str(1, 'keepdims'), ...int(20, 2), ...int(3, 0)]; // AttributeProto INT
  const graph = [
    ...node('ReduceMean', [inputName], ['m'], [axes, keepdims]),
    ...node('MatMul', ['m', 'W'], ['mw']),
    ...node('Add', ['mw', 'b'], ['logits']),
    ...str(2, 'tiny_antispoof'),
    ...initializer('W', [3, 3], W),
    ...initializer('b', [3], b),
    ...valueInfo(11, inputName, [1, 3, size, size]),
    ...valueInfo(12, 'logits', [1, 3]),
  ];
  const model = [...int(1, 8), ...bytes(8, [...str(1, ''), ...int(2, 13)]), ...bytes(7, graph)];
  return Uint8Array.from(model);
}
