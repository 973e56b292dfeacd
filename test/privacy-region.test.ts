// Region: no data leaves the configured stores. With every outbound connection and DNS lookup of
// this process trapped (anything but loopback throws and is recorded), one action of each family
// runs through the official SDK (detection; groups/persons/search; activities/materials/fusion,
// plus a Url input from an allow-listed loopback server) and nothing outside is attempted.
// Inference workers are threads of this process and do no network I/O of their own.
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from './helpers/testdata.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
const attempts: string[] = [];
let loopbackConnects = 0; // proves the trap sits on the path the SDK, fetch and the Url fetcher use
const saved = { connect: net.Socket.prototype.connect, lookup: dns.lookup, plookup: dns.promises.lookup };

function trap() {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
    // net.connect() passes its normalised [options, cb]; callers may also pass (port, host) or (options).
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const opts = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
    if (!opts.path && !LOOPBACK.has(opts.host ?? 'localhost')) {
      attempts.push(`connect ${opts.host}:${opts.port}`);
      throw new Error(`outbound connection to ${opts.host}:${opts.port} blocked by the region test`);
    }
    if (!opts.path) loopbackConnects++;
    return (saved.connect as any).apply(this, args);
  } as any;
  dns.lookup = function (host: string, ...rest: any[]) {
    if (!LOOPBACK.has(host)) { attempts.push(`lookup ${host}`); throw new Error(`DNS lookup of ${host} blocked by the region test`); }
    return (saved.lookup as any).call(dns, host, ...rest);
  } as any;
  dns.promises.lookup = async function (host: string, ...rest: any[]) {
    if (!LOOPBACK.has(host)) { attempts.push(`lookup ${host}`); throw new Error(`DNS lookup of ${host} blocked by the region test`); }
    return (saved.plookup as any).call(dns.promises, host, ...rest);
  } as any;
  syncBuiltinESMExports();
}

function untrap() {
  net.Socket.prototype.connect = saved.connect;
  dns.lookup = saved.lookup;
  dns.promises.lookup = saved.plookup;
  syncBuiltinESMExports();
}

describe.skipIf(!hasTestdata)(`region: no outbound network at run time${hasTestdata ? '' : ` (skipped: ${testdataSkipReason})`}`, () => {
  let t: TestServer;
  let files: http.Server;
  let filesUrl = '';

  beforeAll(async () => {
    trap();
    files = http.createServer((req, res) => {
      const f = td('faces', 'identities', 'amy', 'amy1.png');
      if (req.url === '/amy1.png' && fs.existsSync(f)) { res.writeHead(200, { 'content-type': 'image/png' }); res.end(fs.readFileSync(f)); }
      else { res.writeHead(404); res.end(); }
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const port = (files.address() as AddressInfo).port;
    filesUrl = `http://127.0.0.1:${port}`;
    t = await startTestServer({ FACEVAULT_URL_ALLOWLIST: `127.0.0.1:${port}`, FACEVAULT_FUSION_THREADS: '1' });
  }, 240_000);
  afterAll(async () => {
    await t?.stop();
    await new Promise((r) => files?.close(r));
    untrap();
  });

  it('the trap catches an outbound attempt (it can fail)', async () => {
    expect(() => new net.Socket().connect(80, '93.184.216.34')).toThrow(/blocked/);
    await expect(dns.promises.lookup('example.com')).rejects.toThrow(/blocked/);
    expect(attempts).toEqual(['connect 93.184.216.34:80', 'lookup example.com']);
    attempts.length = 0;
  });

  it('runs detection, library and fusion actions without any outbound attempt', async () => {
    loopbackConnects = 0;
    const iai = t.iai();
    const d = await iai.DetectFace({ Url: `${filesUrl}/amy1.png` });
    expect(d.FaceInfos.length).toBe(1);
    await iai.CreateGroup({ GroupId: 'g', GroupName: 'G' });
    await iai.CreatePerson({ GroupId: 'g', PersonId: 'amy', PersonName: 'Amy', Image: tdBase64('faces', 'identities', 'amy', 'amy1.png') });
    const s = await iai.SearchFaces({ GroupIds: ['g'], Image: tdBase64('faces', 'identities', 'amy', 'amy2.png') });
    expect(s.Results[0].Candidates[0].PersonId).toBe('amy');
    const fe = t.common('facefusion');
    const activityId = (await fe.request('CreateActivity', { ActivityName: 'a', Status: 'PUBLISHED' })).ActivityId;
    const materialId = (await fe.request('CreateMaterial', { ActivityId: activityId, Image: tdBase64('faces', 'identities', 'obama', 'obama-720p.jpg') })).MaterialId;
    const f = await t.facefusion().FuseFace({ ProjectId: activityId, ModelId: materialId, RspImgType: 'url', MergeInfos: [{ Url: `${filesUrl}/amy1.png` }] });
    expect(f.FusedImage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/results\//);
    expect((await fetch(f.FusedImage)).status).toBe(200);
    expect(attempts).toEqual([]);
    expect(loopbackConnects).toBeGreaterThan(0);
  }, 240_000);
});
