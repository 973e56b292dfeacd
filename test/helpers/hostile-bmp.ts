// Hand-built BMP headers for attack tests: every field settable, pixels zero.
export interface BmpFields {
  width: number;
  height: number;
  bpp: number;
  compression: number;
  masks?: [number, number, number];
  colors?: number;
  headerSize?: number;
  pixelOffset?: number;
  /** Bytes of pixel data actually present (default: what the header implies). */
  dataBytes?: number;
}

export function hostileBmp(f: BmpFields): Buffer {
  const headerSize = f.headerSize ?? 40;
  const maskBytes = f.masks ? 12 : 0;
  const paletteBytes = f.bpp <= 8 ? 4 * Math.min(f.colors || 2 ** f.bpp, 256) : 0;
  const natural = 14 + Math.min(Math.max(40, headerSize), 124) + maskBytes + paletteBytes;
  const offset = f.pixelOffset ?? natural;
  const stride = Math.ceil((Math.abs(f.width) * f.bpp) / 32) * 4;
  const data = f.dataBytes ?? Math.min(stride * Math.abs(f.height), 1 << 22);
  const buf = Buffer.alloc(natural + data);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(offset >>> 0, 10);
  buf.writeUInt32LE(headerSize >>> 0, 14);
  buf.writeInt32LE(f.width | 0, 18);
  buf.writeInt32LE(f.height | 0, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(f.bpp & 0xffff, 28);
  buf.writeUInt32LE(f.compression >>> 0, 30);
  buf.writeUInt32LE((f.colors ?? 0) >>> 0, 46);
  if (f.masks) f.masks.forEach((m, i) => buf.writeUInt32LE(m >>> 0, 54 + 4 * i));
  return buf;
}

/** The reported attack: 64x64, 32-bit BI_BITFIELDS, every mask 0xFFFFFFFF (about 16 KB). */
export const MASK_ATTACK_BMP = () => hostileBmp({ width: 64, height: 64, bpp: 32, compression: 3, masks: [0xffffffff, 0xffffffff, 0xffffffff] });
