/** Injectable time, so retention and signature-expiry tests move time instead of sleeping. */
export interface Clock { now(): number }
export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
  constructor(private t: number = Date.now()) {}
  now() { return this.t; }
  advance(ms: number) { this.t += ms; }
  set(t: number) { this.t = t; }
}
