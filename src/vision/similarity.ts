// Embedding comparison, kept apart from embedder.ts so the main thread can compare embeddings
// without loading ONNX Runtime (the workers run the models).

/** Cosine similarity of two L2-normalised embeddings (their dot product). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`embedding sizes differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
