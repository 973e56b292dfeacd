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

  /** Every record, oldest first (for tests, deletion scans and support). */
  readAll(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of this.segments()) {
      for (const line of fs.readFileSync(path.join(this.opts.dir, s.name), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
    }
    return out;
  }
}
