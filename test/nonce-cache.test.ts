// The v1 replay caches: a nonce is claimed once within its window, memory stays bounded, and with
// Redis the claim is shared by every process of the deployment.
import { describe, expect, it } from 'vitest';
import { MemoryNonceStore, RedisNonceStore } from '../src/api/protocol/nonce-cache.ts';

describe('v1 nonce cache', () => {
  it('memory: once per key until expiry; full of live entries -> RequestLimitExceeded, expired ones make room', () => {
    const s = new MemoryNonceStore(3);
    expect(s.claim('a', 1000, 0)).toBe(true);
    expect(s.claim('a', 1000, 10)).toBe(false);
    expect(s.claim('a', 2000, 1000)).toBe(true); // its window is over: a new request
    s.claim('b', 5000, 1000); s.claim('c', 5000, 1000);
    expect(() => s.claim('d', 5000, 1500)).toThrow(expect.objectContaining({ code: 'RequestLimitExceeded' }));
    expect(s.claim('d', 9000, 2500)).toBe(true); // 'a' expired at 2000 and was swept
    expect(s.size).toBe(3);
  });

  it.skipIf(!process.env.FACEVAULT_TEST_REDIS)('redis: two processes (stores) share the claims', async () => {
    const prefix = `test-${process.pid}-${Date.now()}`;
    const a = new RedisNonceStore(process.env.FACEVAULT_TEST_REDIS!, prefix), b = new RedisNonceStore(process.env.FACEVAULT_TEST_REDIS!, prefix);
    try {
      const now = Date.now();
      expect(await a.claim('k1', now + 5000, now)).toBe(true);
      expect(await b.claim('k1', now + 5000, now)).toBe(false);
      expect(await b.claim('k2', now + 5000, now)).toBe(true);
    } finally {
      await a.close(); await b.close();
    }
  });
});
