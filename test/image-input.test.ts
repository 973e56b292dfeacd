// Image/Url input rules and the SSRF guard, without models.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBase64Image, fetchImage, isAllowListed, isPublicAddress, readImageInput } from '../src/services/media/image-input.ts';

const code = async (p: Promise<unknown>) => p.then(() => 'OK', (e) => (e as { code?: string }).code ?? (e as Error).message);

describe('address policy', () => {
  it('refuses private, loopback, link-local, CGNAT, multicast and mapped addresses', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::1']) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(ip), ip).toBe(true);
    expect(isPublicAddress('not-an-ip')).toBe(false);
  });

  it('matches allow-list entries by host[:port] and CIDR', () => {
    expect(isAllowListed(['127.0.0.1:8080'], '127.0.0.1', 8080, '127.0.0.1')).toBe(true);
    expect(isAllowListed(['127.0.0.1:8080'], '127.0.0.1', 8081, '127.0.0.1')).toBe(false);
    expect(isAllowListed(['images.internal'], 'images.internal', 443, '10.0.0.5')).toBe(true);
    expect(isAllowListed(['10.0.0.0/8'], 'whatever', 80, '10.9.9.9')).toBe(true);
    expect(isAllowListed(['10.0.0.0/8'], 'whatever', 80, '11.0.0.1')).toBe(false);
    expect(isAllowListed(['[::1]:9000'], '[::1]', 9000, '::1')).toBe(true);
    expect(isAllowListed(['fd00::/8'], 'x', 80, 'fd12::1')).toBe(true);
    expect(isAllowListed([], 'localhost', 80, '127.0.0.1')).toBe(false);
  });
});

describe('base64 and field rules', () => {
  it('decodes base64 (and data URIs), refuses junk, oversize and empty input', async () => {
    expect(decodeBase64Image(Buffer.from('abc').toString('base64'), 'Image').toString()).toBe('abc');
    expect(decodeBase64Image('data:image/png;base64,' + Buffer.from('xyz').toString('base64'), 'Image').toString()).toBe('xyz');
    expect(await code(Promise.resolve().then(() => decodeBase64Image('###', 'Image')))).toBe('FailedOperation.ImageDecodeFailed');
    expect(await code(Promise.resolve().then(() => decodeBase64Image('A'.repeat(5 * 1024 * 1024 + 1), 'Image')))).toBe('FailedOperation.ImageSizeExceed');
    expect(await code(readImageInput({}, { allowList: [] }))).toBe('InvalidParameterValue.ImageEmpty');
    expect(await code(readImageInput({ ImageA: '' , UrlA: '' }, { allowList: [] }, { image: 'ImageA', url: 'UrlA' }))).toBe('InvalidParameterValue.ImageEmpty');
    expect(await code(readImageInput({ Image: 42 }, { allowList: [] }))).toBe('InvalidParameter');
  });
});

describe('Url fetching', () => {
  let a: http.Server, b: http.Server, portA = 0, portB = 0;
  beforeAll(async () => {
    b = http.createServer((_req, res) => { res.writeHead(200); res.end('secret from B'); });
    a = http.createServer((req, res) => {
      if (req.url === '/img') { res.writeHead(200); res.end(Buffer.from('IMAGEBYTES')); }
      else if (req.url === '/to-b') { res.writeHead(302, { location: `http://127.0.0.1:${portB}/` }); res.end(); }
      else if (req.url === '/big') { res.writeHead(200); res.end(Buffer.alloc(4 * 1024 * 1024)); }
      else if (req.url === '/slow') { setTimeout(() => { res.writeHead(200); res.end('late'); }, 3000); }
      else if (req.url === '/loop') { res.writeHead(302, { location: '/loop' }); res.end(); }
      else { res.writeHead(404); res.end(); }
    });
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
    portA = (a.address() as AddressInfo).port;
    portB = (b.address() as AddressInfo).port;
  });
  afterAll(async () => {
    a?.closeAllConnections();
    await new Promise((r) => a?.close(r));
    await new Promise((r) => b?.close(r));
  });

  it('fetches from an allow-listed host and refuses a redirect to one that is not', async () => {
    const policy = { allowList: [`127.0.0.1:${portA}`] };
    expect((await fetchImage(`http://127.0.0.1:${portA}/img`, policy)).toString()).toBe('IMAGEBYTES');
    expect(await code(fetchImage(`http://127.0.0.1:${portA}/to-b`, policy))).toBe('FailedOperation.ImageDownloadError');
    expect(await code(fetchImage(`http://127.0.0.1:${portA}/img`, { allowList: [] }))).toBe('FailedOperation.ImageDownloadError');
    expect(await code(fetchImage(`http://127.0.0.1:${portA}/big`, policy))).toBe('FailedOperation.ImageSizeExceed');
    expect(await code(fetchImage(`http://127.0.0.1:${portA}/slow`, { ...policy, timeoutMs: 200 }))).toBe('FailedOperation.ImageDownloadError');
    expect(await code(fetchImage(`http://127.0.0.1:${portA}/loop`, policy))).toBe('FailedOperation.ImageDownloadError');
    expect(await code(fetchImage('gopher://127.0.0.1/', policy))).toBe('InvalidParameterValue.UrlIllegal');
    expect(await code(fetchImage(`http://user:pw@127.0.0.1:${portA}/img`, policy))).toBe('InvalidParameterValue.UrlIllegal');
  });
});

describe('install-time model fetch', () => {
  it('skips quickly when the cached models match the manifest', () => {
    const r = spawnSync(process.execPath, ['scripts/fetch-models.mjs'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/present in \.cache\/models\/faceplugin-0\.0\.1 \(sha256 verified\)/);
  });
});
