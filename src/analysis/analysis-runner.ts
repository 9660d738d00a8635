import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { Notifier } from '../notify/index.js';
import { createNap } from '../scheduling/index.js';
import type { Store } from '../store/index.js';
import { nextProgress } from './analysis-progress.js';
import {
  claimAnalyses,
  findAnalysis,
  recordAction,
  recordInterval,
  releaseLeases,
  type Analysis,
} from './analysis-rows.js';
import type { CanaryControl } from './canary-control.js';
import { evaluateInterval, intervalWindow } from './evaluate-interval.js';
import type { PrometheusClient } from './prometheus-client.js';
import { verdictCloudEvent } from './verdict-cdevent.js';
import { verdictNotice } from './verdict-notice.js';

const canaryRequest = (analysis: Analysis) => ({
  service: analysis.service,
  namespace: analysis.namespace,
  analysisId: analysis.id,
  ...(analysis.revision ? { revision: analysis.revision } : {}),
});

export interface AnalysisRunnerOptions {
  store: Store;
  prometheus: PrometheusClient;
  control: CanaryControl;
  logger: Logger;
  /** Where verdict CDEvents go (the intake); none when absent. */
  emit?: ((events: CloudEvent[]) => Promise<unknown>) | undefined;
  notifiers?: readonly Notifier[];
  /** This replica's name in leases; a fresh one per process by default. */
  replicaId?: string;
  leaseMs?: number;
  pollIntervalMs?: number;
  /** Intervals one analysis may catch up on in one tick (after a restart). */
  catchUpLimit?: number;
  now?: () => Date;
}

export interface AnalysisRunner {
  readonly replicaId: string;
  /** One pass: claim, evaluate what is due, act on decisions. */
  tick(): Promise<void>;
  start(): void;
  /** Runs the next pass now (an analysis was just started). */
  wake(): void;
  /** Stops after the pass in hand and gives up this replica's leases. */
  stop(): Promise<void>;
}

/**
 * Runs analyses kept in SQL. Every replica runs one; a lease decides which replica runs each
 * analysis, and each interval and each decision is recorded only by the lease holder, once
 * (see analysis-rows.ts). A restart resumes from the table: intervals that came due while
 * Cadence was down are evaluated from Prometheus's history.
 */
export function createAnalysisRunner(options: AnalysisRunnerOptions): AnalysisRunner {
  const { store, prometheus, control, logger } = options;
  const replicaId = options.replicaId ?? `replica-${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const catchUpLimit = options.catchUpLimit ?? 100;
  const clock = options.now ?? (() => new Date());
  const notifiers = options.notifiers ?? [];

  async function finished(analysis: Analysis) {
    logger.info(
      {
        analysisId: analysis.id,
        service: analysis.service,
        status: analysis.status,
        verdict: analysis.verdict,
      },
      'analysis finished',
    );
    await Promise.all(notifiers.map((notifier) => notifier.notify(verdictNotice(analysis))));
  }

  async function runIntervals(start: Analysis): Promise<Analysis> {
    let analysis = start;
    for (let done = 0; done < catchUpLimit && analysis.status === 'running'; done++) {
      const index = analysis.nextInterval;
      const now = clock();
      if (intervalWindow(analysis, index).dueAt > now) break;
      const interval = await evaluateInterval(analysis, index, prometheus, replicaId, now);
      let progress = nextProgress(analysis, interval.verdict, analysis.spec, interval.missing);
      if (interval.verdict === 'pass' && control.gate) {
        // Traffic steps: a pass moves the canary's weight; promotion waits for the last step.
        const gate = await control.gate(
          canaryRequest(analysis),
          { index, windowStart: interval.windowStart },
          now,
        );
        if (progress.status === 'promoting' && !gate.promote) {
          progress = { ...progress, status: 'running', verdict: null, reason: gate.detail };
        }
      }
      const terminal = progress.status === 'inconclusive';
      const held = progress.status === 'holding';
      const recorded = await recordInterval(store, replicaId, interval, {
        id: analysis.id,
        ...progress,
        decidedAt: progress.verdict ? now : null,
        finishedAt: terminal ? now : null,
      });
      if (!recorded) {
        logger.warn({ analysisId: analysis.id, index }, 'analysis interval recorded elsewhere');
        return (await findAnalysis(store, analysis.id)) ?? analysis;
      }
      logger.info(
        {
          analysisId: analysis.id,
          index,
          verdict: interval.verdict,
          score: interval.score,
          missing: interval.missing,
        },
        'analysis interval judged',
      );
      analysis = { ...analysis, ...progress, nextInterval: index + 1 };
      if (terminal) await finished({ ...analysis, finishedAt: now });
      // The one notice of a hold: the person it waits for is told when it starts.
      if (held) await finished({ ...analysis, decidedAt: now });
    }
    return analysis;
  }

  async function act(analysis: Analysis) {
    const request = canaryRequest(analysis);
    const promoting = analysis.status === 'promoting';
    let result;
    try {
      result = promoting
        ? await control.promote(request)
        : await control.rollback({
            ...request,
            reason: analysis.reason ?? analysis.verdict ?? 'failed',
          });
    } catch (error) {
      // Kept in its deciding state: the next pass asks again.
      logger.error({ analysisId: analysis.id, err: error }, 'canary action failed');
      await recordAction(store, replicaId, analysis.id, analysis.status, {
        status: analysis.status,
        error: (error as Error).message,
        finishedAt: null,
      });
      return;
    }
    const now = clock();
    if (result.gone) {
      // Someone else ended the canary (a manual promote, a removal, a newer canary) while the
      // verdict was pending: counting this verdict too would count one deployment twice.
      const cancelled = await recordAction(store, replicaId, analysis.id, analysis.status, {
        status: 'cancelled',
        result,
        reason: `canary gone before the ${promoting ? 'promotion' : 'rollback'}: ${result.detail}`,
        finishedAt: now,
      });
      if (cancelled) logger.info({ analysisId: analysis.id }, 'analysis cancelled: canary gone');
      return;
    }
    const status = promoting ? 'promoted' : 'rolled-back';
    const done: Analysis = {
      ...analysis,
      status,
      actionResult: result,
      actionError: null,
      finishedAt: now,
    };
    // A change the control already recorded (the deployer's promote) must not count twice.
    const event = options.emit && !result.recorded ? verdictCloudEvent(done, now) : undefined;
    if (event) {
      await options.emit!([event]).catch((error: unknown) =>
        logger.error({ analysisId: analysis.id, err: error }, 'verdict CDEvent not stored'),
      );
    }
    if (
      await recordAction(store, replicaId, analysis.id, analysis.status, {
        status,
        result,
        finishedAt: now,
      })
    ) {
      await finished(done);
    }
  }

  /** A held canary whose `holdSeconds` are over: rolled back (recorded first, then acted on). */
  async function endHold(analysis: Analysis): Promise<Analysis> {
    const heldSince = analysis.decidedAt ?? analysis.startedAt;
    if (clock().getTime() < heldSince.getTime() + analysis.spec.holdSeconds * 1000) return analysis;
    const reason = `${analysis.reason ?? 'no verdict'}; held ${analysis.spec.holdSeconds} s, then rolled back`;
    const moved = await recordAction(store, replicaId, analysis.id, 'holding', {
      status: 'rolling-back',
      reason,
      finishedAt: null,
    });
    return moved ? { ...analysis, status: 'rolling-back', reason } : analysis;
  }

  async function tick() {
    const now = clock();
    const claimed = await claimAnalyses(
      store,
      replicaId,
      now,
      new Date(now.getTime() + leaseMs),
      100,
    );
    for (const claimedAnalysis of claimed) {
      try {
        let analysis = await runIntervals(claimedAnalysis);
        if (analysis.status === 'holding') analysis = await endHold(analysis);
        if (analysis.status === 'promoting' || analysis.status === 'rolling-back')
          await act(analysis);
      } catch (error) {
        logger.error({ analysisId: claimedAnalysis.id, err: error }, 'analysis pass failed');
      }
    }
  }

  let running = false;
  let loop: Promise<void> | undefined;
  // A wake during a pass is kept, so the analysis just started is not left for the poll interval;
  // unref: the runner's timer alone does not keep the process alive.
  const nap = createNap({ unref: true });
  return {
    replicaId,
    tick,
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          await tick().catch((error: unknown) =>
            logger.error({ err: error }, 'analysis runner pass failed'),
          );
          if (!running) break;
          await nap.take(pollIntervalMs);
        }
      })();
    },
    wake() {
      nap.wake();
    },
    async stop() {
      running = false;
      nap.wake();
      await loop;
      await releaseLeases(store, replicaId).catch((error: unknown) =>
        logger.warn({ err: error }, 'analysis leases not released'),
      );
    },
  };
}
