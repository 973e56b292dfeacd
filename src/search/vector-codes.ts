// Codes the in-memory search index keeps per vector. Every vector is first rotated by a fixed
// randomized Hadamard transform (an orthogonal map, so inner products are unchanged); that spreads
// energy evenly over the dimensions, which makes a single int8 scale per vector accurate and turns
// the sign bits of any 128 coordinates into 128 independent random-hyperplane bits.
export const DIM = 512;
export const WORDS = DIM / 32; // 512 sign bits = 16 u32

// Fixed seed: every process must rotate identically (indexes are rebuilt from stored features).
const SIGNS1 = makeSigns(0x9e3779b9);
const SIGNS2 = makeSigns(0x85ebca6b);

function makeSigns(seed: number): Float32Array {
  const s = new Float32Array(DIM);
  let x = seed >>> 0;
  for (let i = 0; i < DIM; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    s[i] = x & 1 ? 1 : -1;
  }
  return s;
}

// Two Hadamard levels per pass (radix 4): half the passes over the array, which is what the
// index rebuild on start spends most of its time on.
function fwht(a: Float32Array): void {
  let h = 1;
  for (; h * 4 <= DIM; h *= 4) {
    for (let i = 0; i < DIM; i += h * 4) {
      for (let j = i; j < i + h; j++) {
        const x0 = a[j], x1 = a[j + h], x2 = a[j + 2 * h], x3 = a[j + 3 * h];
        const s01 = x0 + x1, d01 = x0 - x1, s23 = x2 + x3, d23 = x2 - x3;
        a[j] = s01 + s23;
        a[j + h] = d01 + d23;
        a[j + 2 * h] = s01 - s23;
        a[j + 3 * h] = d01 - d23;
      }
    }
  }
  for (; h < DIM; h <<= 1) {
    for (let i = 0; i < DIM; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const x = a[j], y = a[j + h];
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
}

/** Rotates `v` (length DIM) into `out`. Two rounds of sign flip + Hadamard, scaled to stay orthonormal. */
export function rotate(v: Float32Array, out: Float32Array): void {
  for (let i = 0; i < DIM; i++) out[i] = v[i] * SIGNS1[i];
  fwht(out);
  for (let i = 0; i < DIM; i++) out[i] *= SIGNS2[i];
  fwht(out);
  const k = 1 / DIM; // (1/sqrt(DIM))^2 for two unnormalised transforms
  for (let i = 0; i < DIM; i++) out[i] *= k;
}

// Round to nearest (ties to even) without a data-dependent branch: Math.round's tie handling
// compiles to a branch that real data mispredicts about half the time, which made quantize and
// residual4 cost ~4x what they did on repeated input (an index rebuild encodes millions of rows).
const ROUND = 6755399441055744; // 1.5 * 2^52

/** int8 codes with one scale per vector (value = code * scale); returns the scale. */
export function quantize(r: Float32Array, out: Int8Array, offset: number): number {
  let max = 0;
  for (let i = 0; i < DIM; i++) { const a = Math.abs(r[i]); if (a > max) max = a; }
  if (max === 0) return 0;
  const inv = 127 / max;
  for (let i = 0; i < DIM; i++) out[offset + i] = (r[i] * inv + ROUND) - ROUND;
  return max / 127;
}

/**
 * What int8 left over (each |residual| <= scale/2), in 4-bit steps of scale/16, two per byte
 * (low nibble = even coordinate): value = (code + nibble/16) * scale, error <= scale/32.
 */
export function residual4(r: Float32Array, codes: Int8Array, offset: number, scale: number, out: Uint8Array, outOffset: number): void {
  if (scale === 0) { out.fill(0, outOffset, outOffset + DIM / 2); return; }
  const inv = 16 / scale;
  for (let i = 0; i < DIM; i += 2) {
    const a = Math.max(-8, Math.min(7, ((r[i] - codes[offset + i] * scale) * inv + ROUND) - ROUND));
    const b = Math.max(-8, Math.min(7, ((r[i + 1] - codes[offset + i + 1] * scale) * inv + ROUND) - ROUND));
    out[outOffset + (i >> 1)] = (a & 15) | ((b & 15) << 4);
  }
}

const signScratch = new Float32Array(DIM);
const signWords = new Uint32Array(signScratch.buffer);

/** 512 sign bits of the rotated vector (bit = r > 0). */
export function signBits(r: Float32Array, out: Uint32Array, offset: number): void {
  // From the float bits, without a branch per coordinate (one that real data mispredicts half
  // the time): set for positive non-zero, clear for +0, -0 and negatives.
  signScratch.set(r);
  for (let w = 0; w < WORDS; w++) {
    let bits = 0;
    const base = w * 32;
    for (let b = 0; b < 32; b++) {
      const u = signWords[base + b];
      bits |= ((((u - 1) >>> 31) | (u >>> 31)) ^ 1) << b;
    }
    out[offset + w] = bits >>> 0;
  }
  signScratch.fill(0);
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Bytes of one encoded row as handed from a decoding worker to the index: int8 codes, residuals, sign bits, scale. */
export const ENCODED_BYTES = DIM + DIM / 2 + WORDS * 4 + 4;

// Scratch for encodeInto: creating typed-array views and a DataView per row cost ~3 us of the
// ~20 us a row took, so one set is reused and zeroed after each row.
// The scale is copied as native-endian float32 bytes, as the sign-bit words already were: the
// encoded rows never leave the process.
const encBits = new Uint32Array(WORDS);
const encBitsBytes = new Uint8Array(encBits.buffer);
const encScale = new Float32Array(1);
const encScaleBytes = new Uint8Array(encScale.buffer);
const encCodes = new Int8Array(DIM);
const encCodeBytes = new Uint8Array(encCodes.buffer);

/** Rotates and encodes `v` into `out` at byte offset `off` (ENCODED_BYTES); `tmp` is DIM floats of scratch, zeroed after. */
export function encodeInto(v: Float32Array, tmp: Float32Array, out: Uint8Array, off: number): void {
  rotate(v, tmp);
  const scale = quantize(tmp, encCodes, 0);
  out.set(encCodeBytes, off);
  residual4(tmp, encCodes, 0, scale, out, off + DIM);
  signBits(tmp, encBits, 0);
  out.set(encBitsBytes, off + DIM + DIM / 2);
  encScale[0] = scale;
  out.set(encScaleBytes, off + DIM + DIM / 2 + WORDS * 4);
  encBits.fill(0);
  encCodes.fill(0);
  encScale[0] = 0;
  tmp.fill(0);
}
