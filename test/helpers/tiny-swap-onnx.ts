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

/**
 * A tiny identity encoder with an ArcFace encoder's interface: `data` [1,3,S,S] in, `feat` [1,N]
 * out = the crop's three channel means times a fixed 3×N matrix `w` (so the test can compute it).
 */
export function tinyIdentityOnnx(size: number, w: number[][]): Buffer {
  const n = w[0].length;
  return Buffer.from(onnxModel({
    name: 'tiny_identity',
    nodes: [node('GlobalAveragePool', ['data'], ['g']), node('Flatten', ['g'], ['f']), node('MatMul', ['f', 'w'], ['feat'])],
    initializers: [floatTensor('w', [3, n], w.flat())],
    inputs: [valueInfo('data', [1, 3, size, size])],
    outputs: [valueInfo('feat', [1, n])],
  }));
}
