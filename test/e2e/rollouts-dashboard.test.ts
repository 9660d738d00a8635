// Callbacks passed to page.evaluate() run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/**
 * The live rollouts page in real headless Chromium against the built `cadence serve` with the
 * watcher on, over the test Kubernetes API server and the real kubectl. The test steps the
 * simulated Deployment controller one pod at a time and the page's progress bar follows, fed by
 * the rollouts stream, without a reload; a rollout past its progress deadline shows as failed;
 * a click shows one Deployment's history. Screenshots under test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { artifactsDir, launchChromium } from '../support/browser.js';
import { startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-apiserver/index.js';
import { applyFlags, kubectl } from '../support/kube-apiserver/kubectl.js';

const screenshots = artifactsDir('dashboard');

function deployment(name: string, image: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: production}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - {name: ${name}, image: ${image}}
`;
}

describe('the live rollouts page in a real browser', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-rollouts-page-'));
  let kube: KubeApiServer;
  let cadence: CadenceProcess;
  let browser: Browser;
  let page: Page;
  const apply = async (manifest: string) => {
    const result = await kubectl(
      kube.kubeconfigPath,
      ['apply', '--server-side', ...applyFlags(), '-f', '-'],
      manifest,
    );
    assert.equal(result.status, 0, result.stderr);
  };
  /** Waits for the page to show `progress` on the row of `name`; the timeout guards a hang. */
  const showsProgress = (name: string, progress: string) =>
    page.waitForSelector(`tr[data-rollout="production/${name}"] [data-progress="${progress}"]`, {
      timeout: 30_000,
    });

  before(async () => {
    kube = await startKubeApiServer({ stepIntervalMs: 30 });
    kube.controller.pause();
    await apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: production}\n');
    const config = join(work, 'cadence.yaml');
    writeFileSync(
      config,
      `kube:\n  kubeconfig: ${kube.kubeconfigPath}\n  namespaces: [production]\n  watch: true\n`,
    );
    cadence = await startCadence(['--config', config, '--data-dir', join(work, 'data')]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });
  after(async () => {
    await browser?.close();
    if (cadence && cadence.child.exitCode === null) {
      cadence.child.kill('SIGTERM');
      await cadence.exited;
    }
    await kube?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('explains how to turn the watcher on while no rollout is recorded', async () => {
    await page.goto(`${cadence.url}/#/rollouts`);
    await page.waitForSelector('body[data-ready="rollouts"]');
    const empty = await page.locator('[data-testid=empty-state]').innerText();
    assert.match(empty, /watch: true/);
    assert.match(empty, /watch on deployments/);
  });

  it('advances the progress bar 0/3 → 1/3 → 2/3 → complete from the stream, without a reload', async () => {
    // A marker in the page's window: a reload would drop it.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await apply(deployment('web', 'registry.example/web:1.0', 3));
    kube.controller.step();
    await showsProgress('web', '0/3');
    assert.equal(await page.locator('[data-testid=empty-state]').isVisible(), false);
    kube.controller.step();
    await showsProgress('web', '1/3');
    kube.controller.step();
    await showsProgress('web', '2/3');
    await page.screenshot({ path: join(screenshots, 'rollouts-progressing.png'), fullPage: true });
    assert.match(
      await page.locator('tr[data-rollout="production/web"] [data-phase]').innerText(),
      /progressing/,
    );
    kube.controller.step();
    await showsProgress('web', '3/3');
    await page.waitForSelector('tr[data-rollout="production/web"] [data-phase="complete"]', {
      timeout: 30_000,
    });
    const row = await page.locator('tr[data-rollout="production/web"]').innerText();
    assert.match(row, /registry\.example\/web:1\.0/);
    // Written as the CLI writes it: seconds with a decimal, not "0 min".
    assert.match(
      await page.locator('tr[data-rollout="production/web"] [data-duration]').innerText(),
      /^\d+(\.\d)?s$/,
    );
    assert.match(row, /\b1\b/);
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
  });

  it('shows a rollout past its progress deadline as failed', async () => {
    kube.controller.failNextRollout('production', 'api');
    kube.controller.resume();
    await apply(deployment('api', 'registry.example/api:1.0', 2));
    const failed = await page.waitForSelector(
      'tr[data-rollout="production/api"] [data-phase="failed"]',
      { timeout: 30_000 },
    );
    assert.match(await failed.innerText(), /ProgressDeadlineExceeded/);
    await page.screenshot({ path: join(screenshots, 'rollouts.png'), fullPage: true });
  });

  it('shows one Deployment’s history on a click, and works on the wall display', async () => {
    await apply(deployment('web', 'registry.example/web:2.0', 3));
    await page.waitForSelector('tr[data-rollout="production/web"] td:nth-child(4):text-is("2")', {
      timeout: 30_000,
    });
    await showsProgress('web', '3/3');
    await page.waitForSelector('tr[data-rollout="production/web"] [data-phase="complete"]', {
      timeout: 30_000,
    });
    await page.click('a[data-deployment="production/web"]');
    await page.waitForFunction(() => location.hash.includes('deployment=production'));
    await page.waitForSelector('[data-testid=rollout-history]');
    const rows = await page.locator('[data-testid=rollout-history] tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /web:2\.0/);
    assert.match(rows[1]!, /web:1\.0/);

    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(`${cadence.url}/?wall=1#/rollouts`);
    await page.waitForSelector('body[data-ready="rollouts"]');
    assert.equal(await page.locator('html.wall').count(), 1);
    assert.equal(await page.locator('[data-testid=rollouts] tbody tr').count(), 2);
    await page.screenshot({ path: join(screenshots, 'rollouts-wall-1366x768.png') });
    // Every column is on the screen: nothing scrolls sideways, no header is cut.
    const fit = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      headers: [...document.querySelectorAll('[data-testid=rollouts] th')].map(
        (th) => th.getBoundingClientRect().right,
      ),
    }));
    assert.ok(fit.scroll <= fit.width, `page ${fit.scroll}px wide in a ${fit.width}px window`);
    assert.equal(fit.headers.length, 7);
    assert.ok(
      fit.headers.every((right) => right <= fit.width),
      fit.headers.join(' '),
    );
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it('filters by namespace and phase, and drops a deleted Deployment without a reload', async () => {
    await page.goto(`${cadence.url}/#/rollouts`);
    await page.waitForSelector('body[data-ready="rollouts"]');
    await page.selectOption('select[data-filter=phase]', 'failed');
    await page.waitForFunction(() => location.hash.includes('phase=failed'));
    // The unfiltered table already held production/api: wait for the filtered one, not the row.
    await page.waitForFunction(
      () => {
        const rows = document.querySelectorAll('[data-testid=rollouts] tbody tr');
        return rows.length === 1 && rows[0]!.getAttribute('data-rollout') === 'production/api';
      },
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator('[data-testid=rollouts] tbody tr').count(), 1);
    assert.deepEqual(await page.locator('select[data-filter=namespace] option').allInnerTexts(), [
      'all',
      'production',
    ]);
    await page.selectOption('select[data-filter=phase]', '');
    await page.selectOption('select[data-filter=namespace]', 'production');
    await page.waitForFunction(
      () => location.hash.includes('namespace=production') && !location.hash.includes('phase='),
    );
    await page.waitForSelector('tr[data-rollout="production/web"]', { timeout: 30_000 });
    assert.equal(await page.locator('[data-testid=rollouts] tbody tr').count(), 2);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const result = await kubectl(kube.kubeconfigPath, [
      'delete',
      'deployment',
      'api',
      '-n',
      'production',
    ]);
    assert.equal(result.status, 0, result.stderr);
    await page.waitForSelector('tr[data-rollout="production/api"]', {
      state: 'detached',
      timeout: 30_000,
    });
    assert.equal(await page.locator('[data-testid=rollouts] tbody tr').count(), 1);
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
  });
});
