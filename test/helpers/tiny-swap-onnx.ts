// A tiny ONNX model with a face-swap model's interface: inputs `target` [1,3,S,S] and `source`
// [1,E], output `output` [1,3,S,S] = target + gain·ReduceSum(source) (gain 0 = the target
// unchanged, yet the source must still be fed).
import { floatTensor, node, onnxModel, valueInfo } from './onnx-proto.ts';

export function tinySwapOnnx(size = 128, embedding = 512, gain = 0): Buffer {
  return Buffer.from(onnxModel({
    name: 'tiny_swap',
    nodes: [node('ReduceSum', ['source'], ['s']), node('Mul', ['s', 'gain'], ['g']), node('Add', ['target', 'g'], ['output'])],
    initializers: [floatTensor('gain', [1], [gain])],
    inputs: [valueInfo('target', [1, 3, size, size]), valueInfo('source', [1, embedding])],
    outputs: [valueInfo('output', [1, 3, size, size])],
  }));
}
