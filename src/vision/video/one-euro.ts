// The One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cutoff rises
// with the signal's speed, so a still face does not jitter and a moving one does not lag.
export class OneEuro {
  private x: number | null = null;
  private dx = 0;

  constructor(private readonly rate: number, private readonly minCutoff = 1.0, private readonly beta = 0.3, private readonly dCutoff = 1.0) {}

  private alpha(cutoff: number): number {
    const tau = 1 / (2 * Math.PI * cutoff);
    return 1 / (1 + tau * this.rate);
  }

  filter(v: number): number {
    if (this.x === null) { this.x = v; return v; }
    const d = (v - this.x) * this.rate;
    const ad = this.alpha(this.dCutoff);
    this.dx = ad * d + (1 - ad) * this.dx;
    const a = this.alpha(this.minCutoff + this.beta * Math.abs(this.dx));
    this.x = a * v + (1 - a) * this.x;
    return this.x;
  }
}
