// Callbacks passed to page.evaluate() run in the browser: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard in real headless Chromium against the built `cadence serve`: seeded through the
 * real intake (the DORA golden scenario as CDEvents) and a real `cadence git import` (the
 * vendoring repository), every page shows the numbers docs/metrics.md and docs/git-cadence.md
 * work out by hand, filters change them through the URL, and an empty server explains how to
 * send the first event (and that very command works). Screenshots of every page are saved under
 * test-artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { builtDashboardDir } from '../../src/server/routes/dashboard-routes.js';
import { artifactsDir, launchChromium } from '../support/browser.js';
import { runCadence, startCadence, type CadenceProcess } from '../support/cadence-process.js';
import { scenario } from '../support/dora-scenario.js';
import { buildVendoringRepo, VENDORING_RULES } from '../support/git-fixture.js';
import { pollUntil } from '../support/poll-until.js';

const screenshots = artifactsDir('dashboard');
const WINDOW = 'from=2026-03-01&to=2026-03-15';

async function stop(server: CadenceProcess | undefined) {
  if (!server || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

/** Opens a route and waits until the page says its numbers are in the document. */
async function open(page: Page, url: string, id: string) {
  await page.goto(url);
  await page.waitForSelector(`body[data-ready="${id}"]`);
}

/** After a filter changed the URL, waits for the new render of the same page. */
async function rerendered(page: Page, id: string, hashPart: string) {
  await page.waitForFunction((part) => location.hash.includes(part), hashPart);
  await page.waitForSelector(`body[data-ready="${id}"]`);
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

/** The JSON body of a `curl … -d '{…}'` command as an empty state shows it. */
const bodyOf = (command: string) =>
  command.slice(command.indexOf("-d '") + 4, command.indexOf("}'") + 1);

async function shoot(page: Page, name: string) {
  // Charts draw on the next animation frame.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  const path = join(screenshots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

describe('the dashboard in a real browser', () => {
  let browser: Browser;
  before(async () => {
    assert.ok(
      existsSync(join(builtDashboardDir, 'index.html')),
      'the dashboard is built (npm run build)',
    );
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    console.log(`dashboard screenshots: ${screenshots}`);
  });

  describe('on a seeded server', () => {
    const work = mkdtempSync(join(tmpdir(), 'cadence-dashboard-e2e-'));
    const dataDir = join(work, 'data');
    let server: CadenceProcess | undefined;
    let page: Page;

    before(async () => {
      const repo = buildVendoringRepo();
      writeFileSync(join(work, 'rules.yaml'), VENDORING_RULES);
      // The embedded store is one process's: import first, then serve the same data directory.
      const imported = runCadence(
        [
          'git',
          'import',
          repo.fixture.dir,
          '--name',
          'vendoring',
          '--rules',
          join(work, 'rules.yaml'),
        ],
        { CADENCE_DATA_DIR: dataDir },
      );
      assert.equal(imported.status, 0, imported.stderr);
      repo.fixture.remove();
      writeFileSync(
        join(work, 'cadence.yaml'),
        'dora:\n  services:\n    web: { team: storefront }\n    api: { team: platform }\n',
      );
      const started = await startCadence([
        '--data-dir',
        dataDir,
        '--config',
        join(work, 'cadence.yaml'),
      ]);
      server = started;
      for (const event of scenario) {
        const response: Response = await fetch(`${server.url}/cdevents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
        });
        assert.equal(response.status, 202, await response.text());
      }
      // The router runs in the background: wait until every CDEvent is routed.
      await pollUntil(async () => {
        const { events } = (await (
          await fetch(`${started.url}/api/v1/events?limit=100`)
        ).json()) as {
          events: { routedAt: string | null }[];
        };
        return events.length === scenario.length && events.every((e) => e.routedAt);
      }, 'every CDEvent to be routed');
      page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    });
    after(async () => {
      await page?.close();
      await stop(server);
      rmSync(work, { recursive: true, force: true });
    });

    it('shows the five metrics of the golden scenario with their tiers and trends', async () => {
      await open(page, `${server!.url}/#/overview?${WINDOW}`, 'overview');
      assert.equal(
        await text(page, '[data-testid=scope]'),
        'all services in production, 2026-03-01 to 2026-03-15',
      );
      // 6 deployments in 14 days, 6 deploy days over two weeks.
      assert.equal(await text(page, '[data-value=deployment-frequency]'), '0.43 / day');
      assert.match(
        await text(page, '[data-metric=deployment-frequency]'),
        /6 deployments in 14 days\s+3\.00 deploy days \/ week/,
      );
      // Lead times 3 4 4 8 26 26 29 h: median 8, p90 27.2.
      assert.equal(await text(page, '[data-value=lead-time]'), '8.0 h');
      assert.match(
        await text(page, '[data-metric=lead-time]'),
        /median of 7 commits\s+p90 27\.2 h/,
      );
      // D2, D4, D5, A1 failed of 7 attempts.
      assert.equal(await text(page, '[data-value=change-failure-rate]'), '57 %');
      assert.match(await text(page, '[data-metric=change-failure-rate]'), /4 of 7 attempts failed/);
      // Recovery 1, 19.5, 24, 218 h: median 21.75 h, p90 159.8 h = 6.7 d; restore median 9.75 h.
      assert.equal(await text(page, '[data-value=recovery-time]'), '21.8 h');
      assert.match(
        await text(page, '[data-metric=recovery-time]'),
        /median of 4, p90 6\.7 d\s+time to restore: median 9\.8 h/,
      );
      // D3 shipped while I1 was open.
      assert.equal(await text(page, '[data-value=rework-rate]'), '17 %');
      const tiers = Object.fromEntries(
        await page
          .locator('[data-tier]')
          .evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-tier'), n.textContent])),
      );
      assert.deepEqual(tiers, {
        'deploymentFrequency-2023': '2023: high',
        'deploymentFrequency-2024': '2024: high',
        'leadTime-2023': '2023: elite',
        'leadTime-2024': '2024: elite',
        'changeFailureRate-2023': '2023: low',
        'changeFailureRate-2024': '2024: low',
        'failedDeploymentRecoveryTime-2023': '2023: high',
        'failedDeploymentRecoveryTime-2024': '2024: high',
      });
      // One chart per metric, drawn.
      await page.waitForFunction(() => document.querySelectorAll('.trend canvas').length === 5);
      await shoot(page, 'overview');
    });

    it('changes the numbers with the service, team and bucket filters, through the URL', async () => {
      await open(page, `${server!.url}/#/overview?${WINDOW}`, 'overview');
      await page.selectOption('select[data-filter=service]', 'web');
      await rerendered(page, 'overview', 'service=web');
      // web alone: D1, D2, D3, D4, D6; attempts add D5; failed D2, D4, D5.
      assert.match(
        await text(page, '[data-metric=deployment-frequency]'),
        /5 deployments in 14 days/,
      );
      assert.equal(await text(page, '[data-value=change-failure-rate]'), '50 %');
      assert.equal(await text(page, '[data-value=rework-rate]'), '20 %');
      assert.equal(
        await text(page, '[data-testid=scope]'),
        'web in production, 2026-03-01 to 2026-03-15',
      );

      await page.selectOption('select[data-filter=service]', '');
      await page.waitForFunction(() => !location.hash.includes('service='));
      await page.selectOption('select[data-filter=team]', 'platform');
      await rerendered(page, 'overview', 'team=platform');
      // api alone: A1, failed by I2, restored 218 h (9.1 d) later; no known changes.
      assert.match(
        await text(page, '[data-metric=deployment-frequency]'),
        /1 deployment in 14 days/,
      );
      assert.equal(await text(page, '[data-value=change-failure-rate]'), '100 %');
      assert.equal(await text(page, '[data-value=recovery-time]'), '9.1 d');
      assert.equal(await text(page, '[data-value=lead-time]'), '–');
      await shoot(page, 'overview-team-platform');

      // A narrower window through the date input: from 5 March, only D3, D4, D6 remain.
      await page.selectOption('select[data-filter=team]', '');
      await page.waitForFunction(() => !location.hash.includes('team='));
      await page.fill('input[data-filter=from]', '2026-03-05');
      await rerendered(page, 'overview', 'from=2026-03-05');
      assert.match(
        await text(page, '[data-metric=deployment-frequency]'),
        /3 deployments in 10 days/,
      );

      await page.selectOption('select[data-filter=bucket]', 'month');
      await rerendered(page, 'overview', 'bucket=month');
      await page.waitForFunction(() => document.querySelectorAll('.trend canvas').length === 5);
    });

    it('shows a bad filter’s problem on the page, naming the field', async () => {
      await open(page, `${server!.url}/#/overview?from=soon`, 'overview');
      assert.match(await text(page, '[role=alert]'), /query parameter from: .*\(from\)$/);
      await open(page, `${server!.url}/#/deployments?team=nobody`, 'deployments');
      assert.match(
        await text(page, '[role=alert]'),
        /no service in the configuration belongs to team "nobody" \(team\)/,
      );
    });

    it('shows the deployments timeline with each deployment’s changes and incidents', async () => {
      await open(page, `${server!.url}/#/deployments?${WINDOW}`, 'deployments');
      // Seven production attempts and one rollback; the staging deploy is not in production.
      assert.equal(await page.locator('li.deployment').count(), 8);
      const d2 = page.locator('li.deployment', { hasText: 'revision r3' });
      assert.match(await d2.innerText(), /failed: incident I1 · restored 2026-03-05 09:30/);
      assert.match(await d2.innerText(), /2 changes: acme\/web#3, acme\/web@r2/);
      assert.match(await d2.innerText(), /3 commits, lead time 8\.0 h – 29\.0 h/);
      assert.equal(await d2.locator('[data-incident=I1]').innerText(), 'incident I1');
      const d3 = page
        .locator('li.deployment', { hasText: 'revision r4' })
        .filter({ hasText: 'rework' });
      assert.match(await d3.innerText(), /1 change: acme\/web#4/);
      assert.match(await d3.innerText(), /1 commit, lead time 4\.0 h$/m);
      assert.equal(await page.locator('li.deployment .badge-rollback').count(), 1);
      await shoot(page, 'deployments');

      await page.selectOption('select[data-filter=service]', 'api');
      await rerendered(page, 'deployments', 'service=api');
      assert.equal(await page.locator('li.deployment').count(), 1);
      assert.match(
        await page.locator('li.deployment').innerText(),
        /failed: incident I2 · restored 2026-03-12 02:00/,
      );
      await page.selectOption('select[data-filter=environment]', 'staging');
      await rerendered(page, 'deployments', 'environment=staging');
      assert.equal(await page.locator('[data-testid=no-rows]').count(), 1);
    });

    it('lists the incidents with their time to restore and attribution', async () => {
      await open(page, `${server!.url}/#/incidents?${WINDOW}`, 'incidents');
      assert.equal(await text(page, '[data-testid=incident-summary]'), '2 incidents, 0 open');
      const rows = await page
        .locator('[data-testid=incidents] tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
      assert.deepEqual(rows, [
        ['I2', 'api', '2026-03-12 00:00', '2026-03-12 02:00', '2.0 h', 'api 2026-03-03 00:00 (–)'],
        [
          'I1',
          'web',
          '2026-03-04 16:00',
          '2026-03-05 09:30',
          '17.5 h',
          'web 2026-03-04 14:00 (r3)',
        ],
      ]);
      await shoot(page, 'incidents');
      await page.selectOption('select[data-filter=service]', 'web');
      await rerendered(page, 'incidents', 'service=web');
      assert.equal(await text(page, '[data-testid=incident-summary]'), '1 incidents, 0 open');
    });

    it('shows the patching cadence of the imported repository', async () => {
      // As of 20 February 2024, a few days after the story ends.
      await open(page, `${server!.url}/#/cadence?asOf=2024-02-20`, 'cadence');
      const cells = (testid: string) =>
        page
          .locator(`[data-testid=${testid}] tbody tr`)
          .evaluateAll((trs) =>
            trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
          );
      // Each vendoring paired with the first later deploy of its package (docs/git-cadence.md).
      assert.deepEqual(
        (await cells('updates')).map((row) => [row[0], row[5]]),
        [
          ['nginx', '1.5 d'],
          ['nginx', '5 d'],
          ['redis', '5 d'],
          ['redis', '3 d'],
          ['redis', '25.5 d'],
          ['nginx', '3 d'],
        ],
      );
      // By the deploy's month: January 1.5, 5, 5, 3; February 25.5, 3.
      assert.deepEqual(await cells('lead-time-by-month'), [
        ['2024-01', '4', '1.5 d', '4 d', '5 d'],
        ['2024-02', '2', '3 d', '14.25 d', '25.5 d'],
      ]);
      // Deploys (commit × package): PR #1 nginx, PR #2 nginx + redis; PR #3 nginx, PR #4 redis.
      // Causes: nginx 1.25, nginx + redis, redis 7.2.1, redis 7.4 (the revert is ignored);
      // nginx 1.27, postgres 16.
      assert.deepEqual(await cells('deploys-by-month'), [
        ['2024-01', '3', '5', '2', '1'],
        ['2024-02', '2', '2', '1', '1'],
      ]);
      assert.deepEqual(
        (await cells('pending')).map((row) => [row[0], row[2], row[3]]),
        [['postgres', '2024-02-10 00:00', '10 d']],
      );
      assert.equal(await text(page, '[data-value=pending]'), '1');
      await page.waitForFunction(() => document.querySelectorAll('.trend canvas').length === 2);
      await shoot(page, 'cadence');
    });

    it('fits a 1920×1080 wall display with large type', async () => {
      const wall = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
      try {
        await open(wall, `${server!.url}/?wall=1#/overview?${WINDOW}`, 'overview');
        assert.equal(
          await wall.evaluate(() => document.documentElement.classList.contains('wall')),
          true,
        );
        const size = (p: Page) =>
          p
            .locator('[data-value=lead-time]')
            .evaluate((n) => parseFloat(getComputedStyle(n).fontSize));
        await open(page, `${server!.url}/#/overview?${WINDOW}`, 'overview');
        assert.ok((await size(wall)) > (await size(page)) * 1.3, 'wall type is larger');
        // Nothing spills sideways: the page is as wide as the screen.
        assert.equal(await wall.evaluate(() => document.documentElement.scrollWidth <= 1920), true);
        assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 1366), true);
        await wall.waitForFunction(() => document.querySelectorAll('.trend canvas').length === 5);
        await shoot(wall, 'overview-wall');
      } finally {
        await wall.close();
      }
    });
  });

  describe('on an empty server', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cadence-dashboard-empty-'));
    let server: CadenceProcess | undefined;
    after(async () => {
      await stop(server);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('explains how to send the first event, and refreshes on a wall display when it arrives', async () => {
      server = await startCadence(['--data-dir', dataDir]);
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      try {
        await open(page, `${server.url}/#/cadence`, 'cadence');
        assert.match(
          await text(page, '[data-testid=empty-state]'),
          /cadence git import \.\/my-gitops-repo --rules/,
        );
        await shoot(page, 'cadence-empty');
        await open(page, `${server.url}/#/deployments`, 'deployments');
        assert.match(await text(page, '[data-testid=empty-state]'), /No deployments yet/);
        await open(page, `${server.url}/#/incidents`, 'incidents');
        const incidentCommand = await text(page, '[data-testid=empty-state] code');
        assert.match(incidentCommand, /incident\.detected/);
        assert.match(incidentCommand, /\/webhooks\/alertmanager/);

        // A wall display refreshing every 5 s shows the empty state...
        await open(page, `${server.url}/?wall=1#/overview?refresh=5`, 'overview');
        const command = await text(page, '[data-testid=empty-state] code');
        assert.match(command, /^curl -X POST http:\/\/127\.0\.0\.1:\d+\/cdevents/);
        await shoot(page, 'overview-empty');
        // ...the command it shows, run as written (its JSON body), is accepted...
        const response = await fetch(`${server.url}/cdevents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodyOf(command),
        });
        assert.equal(response.status, 202, await response.text());
        // (the incident example is accepted too, and is for another window: it is detected now)
        const incident = await fetch(`${server.url}/cdevents`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodyOf(incidentCommand),
        });
        assert.equal(incident.status, 202, await incident.text());
        // ...and the next refresh, without a reload, shows the first deployment.
        await page.waitForSelector('[data-value=deployment-frequency]', { timeout: 30_000 });
        assert.match(
          await text(page, '[data-metric=deployment-frequency]'),
          /1 deployment in 90 days/,
        );
      } finally {
        await page.close();
      }
    });
  });
});
