// Error log: JSON lines in rotated segment files, capped in total size with the oldest
// segment deleted first. The cap can be exceeded by at most one segment's worth.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Read and write granularity of a rewrite: the most parsing done between two yields (256 KiB: a few ms). */
const CHUNK = 256 * 1024;
const NEWLINE = Buffer.from('\n');

function selected(drop: (line: string, record: Record<string, unknown>) => boolean, line: string): boolean {
  let rec: Record<string, unknown>;
  try { rec = JSON.parse(line); } catch { rec = {}; }
  return drop(line, rec);
}

/** Calls `fn` for every non-empty line of a file, reading CHUNK bytes at a time and yielding between chunks. */
async function forEachLine(file: string, fn: (line: string, raw: Buffer) => void | Promise<void>): Promise<void> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer[] = [];
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (!bytesRead) break;
      pos += bytesRead;
      const chunk = buf.subarray(0, bytesRead);
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
        const raw = carry.length ? Buffer.concat([...carry, chunk.subarray(from, nl)]) : chunk.subarray(from, nl);
        carry = [];
        from = nl + 1;
        if (raw.length) await fn(raw.toString('utf8'), raw);
      }
      if (from < chunk.length) carry.push(Buffer.from(chunk.subarray(from))); // copy: buf is reused
      await new Promise<void>((r) => setImmediate(r));
    }
    const rest = Buffer.concat(carry);
    if (rest.length) await fn(rest.toString('utf8'), rest);
  } finally { await fh.close(); }
}

export interface ErrorLogOptions {
  dir: string;
  maxBytes: number;
  segmentBytes?: number;
}

export class ErrorLog {
  private current: { name: string; size: number } | null = null;
  /** Last segment timestamp used: names stay unique when segments are closed within one ms. */
  private lastStamp = 0;
  private readonly segmentBytes: number;

  constructor(private readonly opts: ErrorLogOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    // A segment is at most a tenth of the cap (and at most 64 MiB) so trimming stays fine-grained.
    this.segmentBytes = opts.segmentBytes ?? Math.max(4096, Math.min(64 * 1024 * 1024, Math.floor(opts.maxBytes / 10)));
  }

  segments(): { name: string; size: number }[] {
    return fs.readdirSync(this.opts.dir)
      .filter((f) => /^segment-\d+-\d+\.jsonl$/.test(f))
      .sort()
      .map((name) => ({ name, size: fs.statSync(path.join(this.opts.dir, name)).size }));
  }

  totalBytes(): number {
    return this.segments().reduce((a, s) => a + s.size, 0);
  }

  /** Appends synchronously: an error record must not be lost to a crash right after the reply. */
  append(record: Record<string, unknown>): void {
    const line = JSON.stringify(record) + '\n';
    const bytes = Buffer.byteLength(line);
    if (!this.current || this.current.size + bytes > this.segmentBytes) {
      this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
      this.current = { name: `segment-${String(this.lastStamp).padStart(15, '0')}-${process.pid}.jsonl`, size: 0 };
    }
    fs.appendFileSync(path.join(this.opts.dir, this.current.name), line, { mode: 0o600 });
    this.current.size += bytes;
    this.enforceCap();
  }

  enforceCap(): number {
    let segs = this.segments();
    let total = segs.reduce((a, s) => a + s.size, 0);
    let removed = 0;
    while (total > this.opts.maxBytes && segs.length > 1) {
      const oldest = segs.shift()!;
      fs.rmSync(path.join(this.opts.dir, oldest.name), { force: true });
      if (this.current?.name === oldest.name) this.current = null;
      total -= oldest.size;
      removed++;
    }
    return removed;
  }

  /**
   * Rewrites every segment without the records `drop` selects (deletion requests), off the event
   * loop's critical path: segments are read in chunks with a yield between them, so a scan of the
   * whole log (gigabytes at the default cap) never blocks requests for more than one chunk's
   * parsing. Appends keep going meanwhile: the open segment is closed first, so no segment being
   * scanned is still written by this process. Records appended during the scan are caught by
   * further passes, and the last, small remainder synchronously, so the log holds no selected
   * record when this resolves. Returns how many records were removed.
   */
  async rewrite(drop: (line: string, record: Record<string, unknown>) => boolean): Promise<number> {
    this.removeStaleTemps();
    let removed = 0;
    const done = new Set<string>();
    for (let pass = 0; pass < 8; pass++) {
      this.current = null; // close the open segment: the next append starts a new one
      const todo = this.segments().filter((x) => !done.has(x.name));
      if (!todo.length) return removed;
      for (const x of todo) {
        removed += await this.rewriteSegment(path.join(this.opts.dir, x.name), drop);
        done.add(x.name);
      }
    }
    // Still being appended to after every pass: what is left is what arrived during the last one.
    for (const x of this.segments()) if (!done.has(x.name)) removed += this.rewriteSegmentSync(x.name, drop);
    return removed;
  }

  /** One closed segment: scanned in chunks; rewritten only when it holds a selected record. */
  private async rewriteSegment(file: string, drop: (line: string, record: Record<string, unknown>) => boolean): Promise<number> {
    let found = 0;
    try {
      await forEachLine(file, (line) => { if (selected(drop, line)) found++; });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0; // trimmed by the size cap meanwhile
      throw e;
    }
    if (!found) return 0;
    // The kept records go to a new file that replaces the segment by rename, so a crash leaves the
    // old or the new content, never a mix; the old file's bytes are then overwritten through a
    // handle opened before the rename, so they do not linger in freed blocks (as far as the
    // filesystem overwrites in place; see docs/PRIVACY.md).
    const old = await fsp.open(file, 'r+');
    const tmp = `${file}.${process.pid}.rewrite.tmp`;
    let removed = 0;
    try {
      const out = await fsp.open(tmp, 'w', 0o600);
      try {
        let pending: Buffer[] = [];
        let size = 0;
        const flush = async () => { if (size) await out.write(Buffer.concat(pending)); pending = []; size = 0; };
        await forEachLine(file, async (line, raw) => {
          if (selected(drop, line)) { removed++; return; }
          pending.push(Buffer.from(raw), NEWLINE); // copied: raw may point into the reused read buffer
          size += raw.length + 1;
          if (size >= CHUNK) await flush();
        });
        await flush();
        await out.sync();
      } finally { await out.close(); }
      if ((await old.stat()).nlink === 0) { await fsp.rm(tmp, { force: true }); return 0; } // trimmed meanwhile
      await fsp.rename(tmp, file);
      const { size } = await old.stat();
      const blank = Buffer.alloc(Math.min(CHUNK, size), 0x20);
      for (let at = 0; at < size; at += blank.length) await old.write(blank, 0, Math.min(blank.length, size - at), at);
      await old.sync();
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    } finally { await old.close(); }
    return removed;
  }

  /** The same for a small segment still being appended to: synchronous, so no append interleaves. */
  private rewriteSegmentSync(name: string, drop: (line: string, record: Record<string, unknown>) => boolean): number {
    const file = path.join(this.opts.dir, name);
    let size: number;
    let lines: string[];
    try {
      size = fs.statSync(file).size;
      lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const keep = lines.filter((l) => !selected(drop, l));
    if (keep.length === lines.length) return 0;
    const text = keep.length ? keep.join('\n') + '\n' : '';
    const fd = fs.openSync(file, 'r+');
    try {
      // Overwrite the old bytes before shortening the file, so they do not linger in freed blocks.
      fs.writeSync(fd, Buffer.alloc(size, 0x20), 0, size, 0);
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, text, 0, 'utf8');
      fs.fsyncSync(fd);
    } finally { fs.closeSync(fd); }
    if (this.current?.name === name) this.current.size = Buffer.byteLength(text);
    return lines.length - keep.length;
  }

  /** Temp files of a rewrite a crash interrupted (the segment itself is whole: see rewriteSegment). */
  private removeStaleTemps(): void {
    for (const f of fs.readdirSync(this.opts.dir)) {
      if (!f.endsWith('.rewrite.tmp')) continue;
      const file = path.join(this.opts.dir, f);
      try { if (Date.now() - fs.statSync(file).mtimeMs > 10 * 60_000 || f.endsWith(`.${process.pid}.rewrite.tmp`)) fs.rmSync(file, { force: true }); } catch { /* gone */ }
    }
  }

  /** Every record, oldest first (for tests, deletion scans and support). */
  readAll(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of this.segments()) {
      for (const line of fs.readFileSync(path.join(this.opts.dir, s.name), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
    }
    return out;
  }
}
