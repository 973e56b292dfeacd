// Tracks as bytes for the store: a small JSON header and the meshes as float32 (4 KB per face
// per frame; a 20 s clip at 25 fps with one face is ≈ 2 MB before the blob store's gzip-free copy).
import type { Track, TrackPoint } from './tracker.ts';
import type { Area } from '../fusion/frame-border.ts';

// `picture` (optional; files written before it have none): the frame inside the clip's bars (letterbox.ts), [x0, y0, x1, y1].
interface Header { v: 1; picture?: [number, number, number, number]; tracks: { id: number; bestBox: Track['bestBox']; bestFrame: number; embedding: number[] | null; points: { f: number; b: number[]; m: boolean; br: boolean }[] }[] }

export function encodeTracks(tracks: Track[], picture: Area | null = null): Buffer {
  const meshes: Float32Array[] = [];
  const header: Header = { v: 1, ...(picture ? { picture: [picture.x0, picture.y0, picture.x1, picture.y1] as Header['picture'] } : {}), tracks: tracks.map((t) => ({
    id: t.id, bestBox: t.bestBox, bestFrame: t.bestFrame, embedding: t.embedding ? Array.from(t.embedding) : null,
    points: t.points.map((p) => { if (p.mesh) meshes.push(p.mesh); return { f: p.frame, b: [p.box.x, p.box.y, p.box.width, p.box.height].map((v) => Math.round(v * 10) / 10), m: !!p.mesh, br: p.bridged }; }),
  })) };
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4); len.writeUInt32LE(h.length);
  return Buffer.concat([len, h, ...meshes.map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength))]);
}

export function decodeTracks(buf: Buffer): Track[] {
  return decodeTrackFile(buf).tracks;
}

/** The tracks and the picture area they were found in (null for files written without it). */
export function decodeTrackFile(buf: Buffer): { tracks: Track[]; picture: Area | null } {
  const n = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + n).toString()) as Header;
  const pa = header.picture;
  return { picture: pa ? { x0: pa[0], y0: pa[1], x1: pa[2], y1: pa[3] } : null, tracks: decodeBody(buf, n, header) };
}

function decodeBody(buf: Buffer, n: number, header: Header): Track[] {
  let off = 4 + n;
  const body = new Uint8Array(buf.subarray(off));
  off = 0;
  return header.tracks.map((t) => ({
    id: t.id, bestBox: t.bestBox, bestFrame: t.bestFrame, embedding: t.embedding ? Float32Array.from(t.embedding) : null,
    points: t.points.map((p): TrackPoint => {
      let mesh: Float32Array | null = null;
      if (p.m) { mesh = new Float32Array(body.slice(off, off + 468 * 2 * 4).buffer); off += 468 * 2 * 4; }
      return { frame: p.f, box: { x: p.b[0], y: p.b[1], width: p.b[2], height: p.b[3] }, mesh, bridged: p.br };
    }),
  }));
}
