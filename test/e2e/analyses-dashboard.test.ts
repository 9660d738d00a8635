// Callbacks passed to page.evaluate() run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/**
 * The canary analyses page in real headless Chromium against the built `cadence serve`. The
 * analyses are seeded through the analysis module's own functions (startAnalysis, claimAnalyses,
 * judgeInterval with the real statistical judge, recordInterval) into the server's data
 * directory before it starts: the page only reads what the runner would have written, so no
 * Prometheus is needed here (the runner against a real Prometheus is proven in
 * test/e2e and test/analysis). Screenshots under test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startAnalysis } from '../../src/analysis/index.js';
import { judgeInterval } from '../../src/analysis/judge-interval.js';
import { type IntervalJudgement, type MetricSamples } from '../../src/analysis/judgement.js';
// The runner's own writes (not the module's public surface): the rows it records per interval.
import { claimAnalyses, recordInterval } from '../../src/analysis/analysis-rows.js';
import { openStore } from '../../src/store/index.js';
import { artifactsDir, launchChromium } from '../support/browser.js';
import { startCadence, type CadenceProcess } from '../support/cadence-process.js';

const screenshots = artifactsDir('dashboard');
const START = new Date('2026-11-30T10:00:00Z');

/** n samples around `mean`, spread deterministically. */
const around = (mean: number, n: number) =>
  Array.from({ length: n }, (_, i) => mean * (1 + ((i % 5) - 2) * 0.02));

describe('the canary analyses page in a real browser', () => {
  const work = mkdtempSync(join(tmpdir(), 'cadence-analyses-page-'));
  const dataDir = join(work, 'data');
  let cadence: CadenceProcess;
  let browser: Browser;
  let page: Page;
  const judged: Record<string, IntervalJudgement[]> = {};

  before(async () => {
    const store = await openStore({ dataDir });
    try {
      const seed = async (
        id: string,
        revision: string,
        samplesOf: (metrics: string[]) => Record<string, MetricSamples>[],
        status: 'promoted' | 'rolled-back' | 'inconclusive',
      ) => {
        const analysis = await startAnalysis(
          store,
          { id, service: 'web', revision, baselineRevision: 'v1' },
          undefined,
          START,
        );
        await claimAnalyses(store, 'seed', START, new Date(START.getTime() + 3_600_000), 10);
        judged[id] = [];
        const intervals = samplesOf(analysis.spec.metrics.map((m) => m.name));
        let counts = { passed: 0, failed: 0, inconclusive: 0 };
        for (const [index, samples] of intervals.entries()) {
          const judgement = judgeInterval(
            analysis.spec,
            analysis.spec.metrics,
            new Map(Object.entries(samples)),
          );
          judged[id].push(judgement);
          counts = {
            passed: counts.passed + (judgement.verdict === 'pass' ? 1 : 0),
            failed: counts.failed + (judgement.verdict === 'fail' ? 1 : 0),
            inconclusive: counts.inconclusive + (judgement.verdict === 'inconclusive' ? 1 : 0),
          };
          const last = index === intervals.length - 1;
          const windowStart = new Date(START.getTime() + index * 300_000);
          const recorded = await recordInterval(
            store,
            'seed',
            {
              index,
              windowStart,
              windowEnd: new Date(windowStart.getTime() + 300_000),
              verdict: judgement.verdict,
              score: judgement.score,
              judgement,
              samples: {},
              missing: judgement.missing,
              traffic: { canary: null, stable: null },
              evaluatedAt: new Date(windowStart.getTime() + 300_000),
              evaluatedBy: 'seed',
            },
            {
              id,
              status: last ? status : 'running',
              verdict: last
                ? status === 'promoted'
                  ? 'pass'
                  : status === 'rolled-back'
                    ? 'fail'
                    : 'inconclusive'
                : null,
              reason: last ? `seeded: ${status}` : null,
              ...counts,
              decidedAt: last ? windowStart : null,
              finishedAt: last ? windowStart : null,
            },
          );
          assert.ok(recorded, `interval ${index} of ${id} recorded`);
        }
      };
      // The configured default metrics (error rate, latencies), whatever they are.
      const healthy = (names: string[]) =>
        Object.fromEntries(
          names.map((name, i) => [
            name,
            { canary: around(10 + i, 20), stable: around(10 + i, 20) },
          ]),
        );
      const worse = (names: string[]) =>
        Object.fromEntries(
          names.map((name, i) => [
            name,
            { canary: around(30 + i, 20), stable: around(10 + i, 20) },
          ]),
        );
      await seed(
        'canary-good',
        'v2',
        (names) => [healthy(names), healthy(names), healthy(names)],
        'promoted',
      );
      await seed('canary-bad', 'v3', (names) => [worse(names)], 'rolled-back');
      await seed('canary-blind', 'v4', () => [{}], 'inconclusive');
    } finally {
      await store.close();
    }
    cadence = await startCadence(['--data-dir', dataDir]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  });
  after(async () => {
    await browser?.close();
    if (cadence && cadence.child.exitCode === null) {
      cadence.child.kill('SIGTERM');
      await cadence.exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('lists the analyses with their verdicts', async () => {
    await page.goto(`${cadence.url}/#/analyses`);
    await page.waitForSelector('body[data-ready="analyses"]');
    const verdictOf = (id: string) =>
      page
        .locator(`[data-testid=analyses] tr:has(a[data-analysis="${id}"]) [data-verdict]`)
        .getAttribute('data-verdict');
    assert.equal(
      judged['canary-good']!.every((j) => j.verdict === 'pass'),
      true,
    );
    assert.equal(await verdictOf('canary-good'), 'pass');
    assert.equal(judged['canary-bad']![0]!.verdict, 'fail');
    assert.equal(await verdictOf('canary-bad'), 'fail');
    assert.equal(await verdictOf('canary-blind'), 'inconclusive');
    await page.screenshot({ path: join(screenshots, 'analyses.png'), fullPage: true });
  });

  it('shows one analysis: a canary vs stable chart per metric and each interval’s judgement', async () => {
    await page.click('a[data-analysis="canary-bad"]');
    await page.waitForFunction(() => location.hash.includes('analysis=canary-bad'));
    await page.waitForSelector('body[data-ready="analyses"] [data-testid=analysis-title]');
    const judgement = judged['canary-bad']![0]!;
    await page.waitForFunction(
      (n) => document.querySelectorAll('.trend canvas').length === n,
      judgement.metrics.length,
    );
    const section = await page.locator('[data-interval="0"]').innerText();
    for (const metric of judgement.metrics) {
      assert.ok(section.includes(metric.metric), metric.metric);
      assert.ok(section.includes(metric.reason), metric.reason);
      if (metric.test) assert.match(section, /\d\.\d+e-\d+|0\.\d+/);
    }
    assert.match(section, new RegExp(`score ${judgement.score === null ? '–' : '\\d'}`));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    await page.screenshot({ path: join(screenshots, 'analysis.png'), fullPage: true });
  });

  it('says what was missing when an interval is inconclusive', async () => {
    await page.goto(`${cadence.url}/#/analyses?analysis=canary-blind`);
    await page.waitForSelector('body[data-ready="analyses"] [data-testid=analysis-title]');
    const missing = await page.locator('[data-testid=missing] li').allInnerTexts();
    assert.ok(judged['canary-blind']![0]!.missing.length > 0);
    assert.deepEqual(missing, judged['canary-blind']![0]!.missing);
  });
});
