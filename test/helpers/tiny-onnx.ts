// A MiniFASNet-shaped anti-spoofing stand-in: input [1,3,S,S] -> per-channel mean -> fixed 3x3
// linear map -> logits [1,3]. With W = 0.1 x (R -> class 0, G -> class 1, B -> class 2) on BGR
// planes, a green image is "live" (class 1) and a red one "spoof-print" (class 0), so a test can
// pick the answer by colour.
import { floatTensor, intAttr, intsAttr, node, onnxModel, valueInfo } from './onnx-proto.ts';

/** W is 3x3 row-major: logits = mean(BGR planes) · W + b. */
export function meanLinearOnnx(size = 80, W = [0, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0], b = [0, 0, 0], inputName = 'input'): Uint8Array {
  return onnxModel({
    name: 'tiny_antispoof',
    nodes: [
      node('ReduceMean', [inputName], ['m'], [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]),
      node('MatMul', ['m', 'W'], ['mw']),
      node('Add', ['mw', 'b'], ['logits']),
    ],
    initializers: [floatTensor('W', [3, 3], W), floatTensor('b', [3], b)],
    inputs: [valueInfo(inputName, [1, 3, size, size])],
    outputs: [valueInfo('logits', [1, 3])],
  });
}
