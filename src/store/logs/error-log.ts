// Error log: JSON lines in rotated segment files, capped in total size with the oldest
// segment deleted first. The cap can be exceeded by at most one segment's worth.
import fs from 'node:fs';
import path from 'node:path';

export interface ErrorLogOptions {
  dir: string;
  maxBytes: number;
  segmentBytes?: number;
}

export class ErrorLog {
  private current: { name: string; size: number } | null = null;
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
      this.current = { name: `segment-${String(Date.now()).padStart(15, '0')}-${process.pid}.jsonl`, size: 0 };
      // Two segments opened in the same ms by one process would collide; append is fine either way.
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
   * Rewrites every segment without the records `drop` selects (deletion requests). Synchronous,
   * like append(), so this process cannot interleave a write; each segment is rewritten in place
   * (same file, truncated and written) and synced. Returns how many records were removed.
   */
  rewrite(drop: (line: string, record: Record<string, unknown>) => boolean): number {
    let removed = 0;
    for (const s of this.segments()) {
      const file = path.join(this.opts.dir, s.name);
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const keep = lines.filter((l) => {
        let rec: Record<string, unknown>;
        try { rec = JSON.parse(l); } catch { rec = {}; }
        return !drop(l, rec);
      });
      if (keep.length === lines.length) continue;
      removed += lines.length - keep.length;
      const text = keep.length ? keep.join('\n') + '\n' : '';
      const fd = fs.openSync(file, 'r+');
      try {
        // Overwrite the old bytes before shortening the file, so they do not linger in freed blocks
        // (as far as the filesystem overwrites in place; see docs/PRIVACY.md).
        fs.writeSync(fd, Buffer.alloc(s.size, 0x20), 0, s.size, 0);
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, text, 0, 'utf8');
        fs.fsyncSync(fd);
      } finally { fs.closeSync(fd); }
      if (this.current?.name === s.name) this.current.size = Buffer.byteLength(text);
    }
    return removed;
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
