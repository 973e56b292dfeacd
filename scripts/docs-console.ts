// Screenshots of every console page at desktop and phone widths, in English and Simplified
// Chinese, into docs/console/ (npm run docs:console). Needs Debian's chromium and the test data
// (FACEVAULT_TESTDATA). The data shown is seeded through the API first, as a customer would.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hasChromium, chromiumSkipReason, newPage, signIn, startConsoleRig } from '../test/helpers/console-browser.ts';
import { hasTestdata, td, tdBase64, testdataSkipReason } from '../test/helpers/testdata.ts';

if (!hasChromium || !hasTestdata) {
  console.error(!hasChromium ? chromiumSkipReason : testdataSkipReason);
  process.exit(1);
}
const out = path.resolve('docs', 'console');
fs.mkdirSync(out, { recursive: true });

const rig = await startConsoleRig();
try {
  const { t } = rig;
  // Seed: an activity with two templates, a fusion, a library group, a deletion request, a sub-user.
  const ff = t.common('facefusion');
  const a = await ff.request('CreateActivity', { ActivityName: 'Spring campaign', Status: 'PUBLISHED' });
  await ff.request('CreateActivity', { ActivityName: 'Lunar New Year' });
  await ff.request('CreateMaterial', { ActivityId: a.ActivityId, MaterialName: 'Portrait', Image: tdBase64('faces', 'identities', 'obama', 'obama-720p.jpg') });
  await ff.request('CreateMaterial', { ActivityId: a.ActivityId, MaterialName: 'Full length', Image: tdBase64('faces', 'identities', 'biden', 'biden.jpg') });
  const iai = t.iai();
  await iai.CreateGroup({ GroupId: 'staff', GroupName: 'Staff' });
  for (const [id, name, file] of [['p-obama', 'Barack', ['obama', 'obama.jpg']], ['p-biden', 'Joe', ['biden', 'biden.jpg']], ['p-penny', 'Penny', ['penny', fs.readdirSync(td('faces', 'identities', 'penny'))[0]]]] as const) {
    await iai.CreatePerson({ GroupId: 'staff', PersonId: id, PersonName: name, Image: tdBase64('faces', 'identities', ...file) });
  }
  await iai.CreatePerson({ GroupId: 'staff', PersonId: 'p-leave', PersonName: 'Leaver', Image: tdBase64('faces', 'identities', 'sheldon', fs.readdirSync(td('faces', 'identities', 'sheldon'))[0]) });
  await t.common('iai').request('CreateDeletionRequest', { PersonId: 'p-leave' });
  await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'library-app', policy: ['iai:*'] });
  await t.run.app.accounts.createKey(t.creds.AppId, { subUser: 'fusion-web', policy: ['facefusion:FuseFace', 'facefusion:DescribeMaterialList'] });

  const sizes = [{ name: 'desktop', width: 1280, height: 860 }, { name: 'phone', width: 390, height: 844 }];
  const langs = [{ id: 'en', locale: 'en-US' }, { id: 'zh', locale: 'zh-CN' }];
  const shoot = async (page: Page, name: string) => {
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(250);
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
    console.log(`docs/console/${name}.png`);
  };
  for (const l of langs) {
    for (const s of sizes) {
      const page = await newPage(rig, { locale: l.locale, width: s.width, height: s.height });
      const tag = `${l.id}-${s.name}`;
      await page.goto(`${t.url}/console/`);
      await page.getByLabel('SecretId').waitFor();
      await shoot(page, `sign-in-${tag}`);
      await signIn(page, t.url, t.creds);

      await page.goto(`${t.url}/console/#/activities`);
      await page.locator('tr', { hasText: 'Spring campaign' }).locator('button[aria-pressed]').click();
      await page.locator('li.material .face-box').first().waitFor();
      await shoot(page, `activities-${tag}`);

      await page.goto(`${t.url}/console/#/playground`);
      await page.locator('#pg-activity option', { hasText: 'Spring campaign' }).waitFor({ state: 'attached' });
      await page.locator('#pg-activity').selectOption({ label: 'Spring campaign' });
      await page.locator('#pg-material').selectOption({ label: 'Portrait' });
      await page.locator('.side-by-side .face-box').first().waitFor();
      await page.locator('#photo-0').setInputFiles(td('faces', 'identities', 'biden', 'biden2.jpg'));
      await page.locator('#pg-face').fill('70');
      await page.locator('.card button.primary').click();
      await page.getByTestId('fused').waitFor({ timeout: 60_000 });
      await shoot(page, `playground-${tag}`);

      await page.goto(`${t.url}/console/#/library`);
      await page.getByTestId('persons').waitFor();
      await page.locator('#s-photo').setInputFiles(td('faces', 'identities', 'obama', 'obama2.jpg'));
      await page.locator('form.search-form button').click();
      await page.locator('[data-testid=candidates] li').first().waitFor({ timeout: 60_000 });
      await shoot(page, `library-${tag}`);

      await page.goto(`${t.url}/console/#/privacy`);
      await page.getByTestId('audit-verify').waitFor();
      await shoot(page, `privacy-${tag}`);

      await page.goto(`${t.url}/console/#/usage`);
      await page.getByTestId('usage-table').waitFor();
      await shoot(page, `usage-${tag}`);

      await page.goto(`${t.url}/console/#/keys`);
      await page.locator('section.card table').first().waitFor();
      await shoot(page, `keys-${tag}`);
      await page.context().close();
    }
  }
} finally {
  await rig.stop();
}
