// /readyz around a held start-up step: three samples while it is held, then after release()
// every sample until the node answers 200 (the test's own timeout bounds the wait).
export async function readinessAcrossRelease<R extends { status: number }>(readyz: () => Promise<R>, release: () => void, whileHeld: R[], afterRelease: R[]): Promise<void> {
  for (let i = 0; i < 3; i++) whileHeld.push(await readyz());
  release();
  for (;;) {
    const r = await readyz();
    afterRelease.push(r);
    if (r.status === 200) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}
