// CPU time used by this process's main thread (the event loop), in ms, from Linux's per-thread
// counters (10 ms resolution). Wall-clock latency on a shared, loaded machine also counts time
// the scheduler gives to other processes; this counts only what the event loop itself ran, which
// is what "the event loop was blocked" means. null where /proc is not available.
import fs from 'node:fs';

const file = `/proc/self/task/${process.pid}/stat`;
export const hasThreadCpu = fs.existsSync(file);

export function mainThreadCpuMs(): number {
  const stat = fs.readFileSync(file, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
