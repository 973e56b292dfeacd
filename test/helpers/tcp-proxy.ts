// A loopback TCP proxy in front of a dependency (PostgreSQL, Redis, S3), so a test can take the
// dependency away from one node without touching the machine's shared service:
//   cut()     the port refuses connections and established ones are reset (service stopped);
//   stall()   connections are accepted and kept, but no byte is forwarded either way (a hung or
//             partitioned service: the case that hangs clients without timeouts);
//   restore() forwards again on the same port; stalled connections are reset, not resumed (a
//             real partition that heals leaves them dead or timed out too).
import net from 'node:net';

export type ProxyState = 'up' | 'cut' | 'stalled';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private _port = 0;
  private _state: ProxyState = 'cut';
  /** Connections accepted so far (a check that traffic went through the proxy). */
  accepted = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  get port(): number { return this._port; }
  get state(): ProxyState { return this._state; }

  /** host:port of the proxy, for a URL. */
  get address(): string { return `127.0.0.1:${this._port}`; }

  async start(): Promise<this> {
    await this.listen();
    this._state = 'up';
    return this;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((c) => this.accept(c));
      server.once('error', reject);
      server.listen(this._port, '127.0.0.1', () => {
        this._port = (server.address() as net.AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private accept(c: net.Socket) {
    this.accepted++;
    this.sockets.add(c);
    const end = () => { c.destroy(); this.sockets.delete(c); };
    c.on('error', end);
    c.on('close', end);
    if (this._state === 'stalled') return; // held open, nothing forwarded
    const u = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(u);
    const both = () => { c.destroy(); u.destroy(); this.sockets.delete(c); this.sockets.delete(u); };
    u.on('error', both);
    u.on('close', both);
    c.on('close', both);
    c.pipe(u);
    u.pipe(c);
  }

  private resetAll() {
    for (const s of this.sockets) s.resetAndDestroy?.() ?? s.destroy();
    this.sockets.clear();
  }

  async cut(): Promise<void> {
    this._state = 'cut';
    this.resetAll();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Keeps the listener; every open connection stops forwarding (paused both ways) and new ones are held. */
  async stall(): Promise<void> {
    if (!this.server) await this.listen();
    this._state = 'stalled';
    for (const s of this.sockets) { s.unpipe(); s.pause(); }
  }

  async restore(): Promise<void> {
    this.resetAll();
    if (!this.server) await this.listen();
    this._state = 'up';
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
