// The web console end to end, in Debian's chromium: root and restricted sign-in, activities and
// materials with their faces, fusion, the library (enrol and search), a deletion request and its
// receipt, the usage chart of the calls just made, video (once the server has it), and expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, hasChromium, newPage, signIn, startConsoleRig, type ConsoleRig } from './helpers/console-browser.ts';
import { hasTestdata, td, testdataSkipReason } from './helpers/testdata.ts';

const skip = !hasChromium || !hasTestdata;
if (skip) console.log(!hasChromium ? chromiumSkipReason : testdataSkipReason);

describe.skipIf(skip)(`web console in chromium${skip ? ` (skipped: ${!hasChromium ? chromiumSkipReason : testdataSkipReason})` : ''}`, () => {
  let rig: ConsoleRig;
  let page: Page;

  beforeAll(async () => {
    rig = await startConsoleRig();
    page = await newPage(rig);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  const nav = (p: Page) => p.locator('nav.side a').allTextContents();

  it('signs in with the root key: every section, the session only in an HttpOnly cookie, strict headers', async () => {
    const res = await page.goto(`${rig.t.url}/console/`);
    const h = res!.headers();
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['x-content-type-options']).toBe('nosniff');
    await signIn(page, rig.t.url, rig.t.creds);
    expect(await nav(page)).toEqual(['Activities & materials', 'Fusion playground', 'Face library', 'Privacy centre', 'Usage', 'Keys']);
    const cookies = await page.context().cookies();
    const c = cookies.find((x) => x.name === 'fv_console')!;
    expect(c.httpOnly).toBe(true);
    expect(c.sameSite).toBe('Strict');
    expect(c.value).not.toContain(rig.t.creds.SecretKey);
    // The page's storage holds no secret.
    const stored = await page.evaluate(() => { const g = globalThis as any; return JSON.stringify({ ...g.localStorage }) + g.document.cookie; });
    expect(stored).not.toContain(rig.t.creds.SecretKey);
    expect(stored).not.toContain('fv_console');
  });

  it('creates an activity, uploads a template and shows its faces outlined and numbered', async () => {
    await page.goto(`${rig.t.url}/console/#/activities`);
    await page.getByLabel('Activity name').fill('Spring campaign');
    await page.getByRole('button', { name: 'Create activity' }).click();
    await expect.poll(() => page.getByTestId('activities').textContent()).toContain('Spring campaign');
    await page.locator('#material-file').setInputFiles(td('faces', 'identities', 'obama', 'obama-720p.jpg'));
    await page.getByLabel('Material name').fill('obama');
    await page.locator('form.upload button[type=submit]').click();
    const card = page.locator('li.material').first();
    await card.waitFor({ timeout: 60_000 });
    await expect.poll(() => card.locator('.face-box').count(), { timeout: 20_000 }).toBe(1);
    expect(await card.locator('.face-num').first().textContent()).toBe('0');
    expect(await card.getByTestId('face-count').textContent()).toContain('Faces: 1');
  });

  it('fuses a user photo into the material and shows the result beside the template', async () => {
    await page.goto(`${rig.t.url}/console/#/playground`);
    await page.locator('#photo-0').setInputFiles(td('faces', 'identities', 'biden', 'biden2.jpg'));
    await page.getByLabel(/FuseFaceDegree/).fill('60');
    await page.getByRole('button', { name: 'Fuse' }).click();
    const img = page.getByTestId('fused');
    await img.waitFor({ timeout: 60_000 });
    const size = await img.evaluate((el: any) => el.decode().then(() => [el.naturalWidth, el.naturalHeight]));
    expect(size[0]).toBeGreaterThan(100);
    expect(await img.getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
  });

  it('runs a video job on a video material and plays the result', async (ctx) => {
    // Probe the action first: until video fusion (issue 12) lands this server answers UnsupportedOperation.
    const probe = await page.evaluate(async () => {
      const s: any = await (await fetch('/console/api/session')).json();
      const r = await fetch('/console/api/call', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tc-action': 'SubmitVideoFaceFusionJob', 'x-tc-version': '2022-09-27', 'x-fv-csrf': s.CsrfToken }, body: '{}' });
      return ((await r.json()) as any).Response.Error?.Code ?? 'OK';
    });
    if (probe === 'UnsupportedOperation') {
      ctx.skip(true, 'video fusion is not implemented on this server yet (SubmitVideoFaceFusionJob answers UnsupportedOperation; issue 12)');
      return;
    }
    await page.goto(`${rig.t.url}/console/#/activities`);
    // Open the activity made above (its materials panel opens on creation only).
    await page.getByRole('button', { name: 'Materials' }).first().click();
    await page.locator('#material-file').setInputFiles(td('video', 'short_hamilton_clip.mp4'));
    await page.getByLabel('Material name').fill('hamilton');
    await page.locator('form.upload button[type=submit]').click();
    await expect.poll(() => page.locator('li.material').count(), { timeout: 120_000 }).toBe(2);
    // A video material is stored at once (MaterialStatus 0) and tracked in the background; the
    // playground offers a video job once it is ready (31). Wait for that through the same API.
    const statusOf = () => page.evaluate(async () => {
      const s: any = await (await fetch('/console/api/session')).json();
      const call = async (action: string, params: object) => ((await (await fetch('/console/api/call', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tc-action': action, 'x-tc-version': '2022-09-27', 'x-fv-csrf': s.CsrfToken }, body: JSON.stringify(params) })).json()) as any).Response;
      for (const a of (await call('DescribeActivities', { Limit: 100 })).Activities ?? []) {
        const m = ((await call('DescribeMaterialList', { ActivityId: a.ActivityId, Limit: 20 })).MaterialInfos ?? []).find((x: any) => x.MaterialName === 'hamilton');
        if (m) return m.MaterialStatus as number;
      }
      return -1;
    });
    await expect.poll(statusOf, { timeout: 180_000, interval: 2000 }).toBe(31);
    await page.goto(`${rig.t.url}/console/#/playground`);
    await page.getByLabel('Material').selectOption({ label: 'hamilton' });
    await page.locator('#video-photo').setInputFiles(td('faces', 'identities', 'biden', 'biden2.jpg'));
    await page.getByRole('button', { name: 'Submit video job' }).click();
    await page.getByTestId('video-result').waitFor({ timeout: 150_000 });
    expect(await page.getByTestId('video-job').getAttribute('data-status')).toBe('7');
  }, 400_000); // tracking every frame of a 10 s clip, then the fusion job

  it('enrols a person from a photo and finds them with a 1:N search', async () => {
    await page.goto(`${rig.t.url}/console/#/library`);
    await page.getByLabel('Group ID').fill('staff');
    await page.getByLabel('Group name').fill('Staff');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByLabel('Person ID').fill('p-obama');
    await page.getByLabel('Person name').fill('Barack');
    await page.locator('#e-photo').setInputFiles(td('faces', 'identities', 'obama', 'obama.jpg'));
    await page.getByRole('button', { name: 'Enrol', exact: true }).click();
    await expect.poll(() => page.getByTestId('persons').textContent(), { timeout: 60_000 }).toContain('p-obama');
    await page.locator('#s-photo').setInputFiles(td('faces', 'identities', 'obama', 'obama2.jpg'));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const top = page.locator('[data-testid=candidates] li').first();
    await top.waitFor({ timeout: 60_000 });
    expect(await top.getAttribute('data-person')).toBe('p-obama');
    expect(await top.textContent()).toMatch(/Score \d+\.\d · match \(≥60\)/);
  });

  it('files a deletion request and shows its receipt', async () => {
    await page.goto(`${rig.t.url}/console/#/privacy`);
    await page.getByLabel('Identifier').fill('p-obama');
    await page.getByRole('button', { name: 'File deletion request' }).click();
    await page.locator('dialog.dialog').getByRole('button', { name: 'File deletion request' }).click();
    const receipt = page.locator('details.receipt[open]');
    await receipt.waitFor({ timeout: 30_000 });
    expect(await receipt.textContent()).toMatch(/Persons 1/);
    expect(await receipt.textContent()).toMatch(/[0-9a-f]{64}|RUNNING/);
    await expect.poll(() => page.getByTestId('audit-verify').textContent()).toContain('intact');
  });

  it('shows the calls just made on the usage chart', async () => {
    await page.goto(`${rig.t.url}/console/#/usage`);
    await expect.poll(() => page.getByTestId('usage-table').textContent(), { timeout: 10_000 }).toContain('facefusion:FuseFace');
    const today = new Date().toISOString().slice(0, 10);
    const total = Number(await page.locator(`svg.chart g[data-day="${today}"]`).getAttribute('data-total'));
    // At least CreateActivity, CreateMaterial, FuseFace, CreateGroup, GetGroupList, GetPersonList (the
    // enrolment and search of p-obama named that person: its deletion request erased their records).
    expect(total).toBeGreaterThanOrEqual(6);
    const latency = await page.getByTestId('latency').textContent();
    expect(latency).toContain('facefusion:FuseFace');
    expect(latency).not.toContain('iai:SearchPersons');
    expect((page as Page & { foreign: string[] }).foreign).toEqual([]);
  });

  it('a restricted sub-user sees only what its policy allows and is refused the rest', async () => {
    const sub = await rig.t.run.app.accounts.createKey(rig.t.creds.AppId, { subUser: 'library-app', policy: ['iai:*'] });
    const p = await newPage(rig);
    await signIn(p, rig.t.url, sub);
    expect(await nav(p)).toEqual(['Face library']);
    expect(await p.getByTestId('who').textContent()).toContain('sub-user');
    // Going to a hidden section by URL shows the library instead, and the server refuses the call anyway.
    await p.goto(`${rig.t.url}/console/#/keys`);
    await p.getByRole('heading', { name: 'Face library', level: 1 }).waitFor();
    const code = await p.evaluate(async () => {
      const s: any = await (await fetch('/console/api/session')).json();
      const r = await fetch('/console/api/call', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tc-action': 'DescribeSubUsers', 'x-tc-version': '2020-03-03', 'x-fv-csrf': s.CsrfToken }, body: '{}' });
      return ((await r.json()) as any).Response.Error?.Code;
    });
    expect(code).toBe('AuthFailure.UnauthorizedOperation');
    // No CSRF header: refused before anything runs.
    const status = await p.evaluate(async () => (await fetch('/console/api/call', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tc-action': 'GetGroupList', 'x-tc-version': '2020-03-03' }, body: '{}' })).status);
    expect(status).toBe(403);
    await p.context().close();
  });

  it('sends a user whose session expired back to sign-in', async () => {
    await page.goto(`${rig.t.url}/console/#/activities`);
    await page.reload(); // a fresh document: nothing left over from the pages before
    await page.getByTestId('who').waitFor();
    // The page's own calls first: one still in flight when the clock moves would end the session before the click.
    await page.waitForLoadState('networkidle');
    await page.locator('table[data-testid=activities]').waitFor();
    rig.clock.offsetMs += rig.t.run.app.config.console.idleTimeoutMs + 1000;
    await page.locator('nav.side a[href="#/library"]').click();
    await page.getByText('Your session ended. Sign in again to continue.').waitFor({ timeout: 10_000 });
    expect(await page.getByLabel('SecretId').isVisible()).toBe(true);
    rig.clock.offsetMs = 0;
  });
});
