// Callbacks passed to page.evaluate() run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard's patching-cadence page in real headless Chromium against the built
 * `cadence serve`, over two repositories imported with the real `cadence git import`: the
 * promotion repository (intervals, promotion share and the blog's interval ratio, deciles and
 * ntile variability) and the vendoring one seen months later (empty months collapsed, the
 * window filter). Screenshots are saved under test-artifacts/cadence-dashboard/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { builtDashboardDir } from '../../src/server/routes/dashboard-routes.js';
import { artifactsDir, launchChromium } from '../support/browser.js';
import { spawnSync } from 'node:child_process';
import { cadenceBin, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import {
  buildPromotionRepo,
  buildVendoringRepo,
  PROMOTION_RULES,
  VENDORING_RULES,
} from '../support/git-fixture.js';

const screenshots = artifactsDir('cadence-dashboard');

async function open(page: Page, url: string) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="cadence"]');
}

const cells = (page: Page, testid: string) =>
  page
    .locator(`[data-testid=${testid}] tbody tr`)
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );

async function shoot(page: Page, name: string) {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

describe('the patching-cadence page in a real browser', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-page-e2e-'));
  const dataDir = join(work, 'data');
  let browser: Browser;
  let server: CadenceProcess | undefined;
  let page: Page;

  before(async () => {
    assert.ok(existsSync(join(builtDashboardDir, 'index.html')), 'npm run build first');
    const vendoring = buildVendoringRepo();
    const promotion = buildPromotionRepo();
    writeFileSync(join(work, 'vendoring.yaml'), VENDORING_RULES);
    writeFileSync(join(work, 'promotion.yaml'), PROMOTION_RULES);
    for (const [repo, name] of [
      [vendoring.fixture.dir, 'vendoring'],
      [promotion.fixture.dir, 'promotion'],
    ] as const) {
      // The real CLI; the embedded store's start-up is slow on a loaded machine, hence no
      // tight timeout (runCadence's 30 s).
      const imported = spawnSync(
        process.execPath,
        [cadenceBin, 'git', 'import', repo, '--name', name, '--rules', join(work, `${name}.yaml`)],
        { env: { ...process.env, CADENCE_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 180_000 },
      );
      assert.equal(imported.status, 0, imported.stderr);
    }
    vendoring.fixture.remove();
    promotion.fixture.remove();
    server = await startCadence(['--data-dir', dataDir]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  });
  after(async () => {
    await browser?.close();
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('shows intervals, both promotion figures, deciles and variability', async () => {
    await open(page, `${server!.url}/#/cadence?repository=promotion&asOf=2024-03-31`);
    assert.equal(await page.locator('[data-value=promotion-share-staging]').innerText(), '75 %');
    assert.match(
      await page.locator('[data-value=interval-ratio-staging]').innerText(),
      /interval ratio \(blog\): 67 % = 2\/3/,
    );
    assert.equal(await page.locator('[data-value=deploys]').innerText(), '4');
    assert.match(
      await page.locator('[data-value=paired-deploys]').innerText(),
      /^2 paired with a cause/,
    );
    assert.deepEqual(
      (await cells(page, 'intervals')).map((row) => [row[0], row[5]]),
      [
        ['staging', '3.5 d'],
        ['staging', '3 d'],
        ['staging', '9 d'],
        ['prod', '6 d'],
        ['prod', '13 d'],
      ],
    );
    assert.deepEqual(await cells(page, 'deciles'), [
      ['2024-03', '2.3 d', '2.6 d', '2.9 d', '3.2 d', '3.5 d', '3.8 d', '4.1 d', '4.4 d', '4.7 d'],
    ]);
    assert.deepEqual(await cells(page, 'variability'), [['2024-03', '2 d · 5 d']]);
    await shoot(page, 'cadence-promotion');
  });

  it('collapses empty months and filters by a window, through the URL', async () => {
    // Seen in January 2025: March 2024 to January 2025 have no update, deploy or cause.
    await open(page, `${server!.url}/#/cadence?repository=vendoring&asOf=2025-01-20`);
    assert.deepEqual(await cells(page, 'lead-time-by-month'), [
      ['2024-01', '4', '1.5 d', '4 d', '5 d'],
      ['2024-02', '2', '3 d', '14.25 d', '25.5 d'],
      ['2024-03 … 2025-01', '11 empty months', '', '', ''],
    ]);
    assert.deepEqual(await cells(page, 'deploys-by-month'), [
      ['2024-01', '3', '5', '2', '1'],
      ['2024-02', '2', '2', '1', '1'],
      ['2024-03 … 2025-01', '11 empty months', '', '', ''],
    ]);
    await shoot(page, 'cadence-collapsed');
    await page.selectOption('[data-filter=window]', '12');
    await page.waitForFunction(() => location.hash.includes('window=12'));
    await page.waitForSelector('body[data-ready="cadence"] [data-testid=lead-time-by-month]');
    // The last 12 months, February 2024 to January 2025: January 2024 is left out.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=lead-time-by-month] tbody td')?.textContent ===
        '2024-02',
    );
    assert.deepEqual(await cells(page, 'lead-time-by-month'), [
      ['2024-02', '2', '3 d', '14.25 d', '25.5 d'],
      ['2024-03 … 2025-01', '11 empty months', '', '', ''],
    ]);
    assert.deepEqual(
      (await cells(page, 'updates')).map((row) => [row[0], row[5]]),
      [
        ['redis', '25.5 d'],
        ['nginx', '3 d'],
      ],
    );
    assert.equal(await page.locator('[data-value=deploys]').innerText(), '2');
    await shoot(page, 'cadence-window');
  });
});
