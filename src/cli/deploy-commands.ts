import { Command } from 'commander';
import type { StepsReport } from '../deploy/index.js';
import { CadenceError } from '../problem/index.js';
import { exitCodeForAnalysis, intervalLine, waitForAnalysis } from './analyses-command.js';
import { request } from './api-client.js';
import { addTargetOptions, commandTarget, type TargetFlags } from './command-target.js';
import { renderTable } from './table.js';

export interface ClientFlags extends TargetFlags {
  json?: boolean;
}

export async function call<T>(
  flags: ClientFlags,
  method: 'GET' | 'POST',
  path: string,
  body?: Record<string, string>,
): Promise<T> {
  return request<T>(await commandTarget(flags, 'api'), method, path, { body });
}

export const print = (flags: ClientFlags, value: unknown, text: () => string) =>
  process.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);

interface Revision {
  version: string;
  commit: string;
  tag: string | null;
  at: string;
}
interface Service {
  name: string;
  namespace: string;
  stable: Revision | null;
  canary: Revision | null;
}
interface Applied {
  operationId: number;
  operation: string;
  service: string;
  version: string;
  commit: string;
  applied: { kind: string; name: string }[];
  removed: { kind: string; name: string }[];
  durationMs: number;
}

const describeRevision = (revision: Revision | null) =>
  revision ? `${revision.version} (${revision.commit.slice(0, 12)})` : '-';

export const withClientOptions = (command: Command) =>
  addTargetOptions(command, 'api').option('--json', 'print JSON');

const path = (service: string, rest = '') =>
  `/api/v1/services/${encodeURIComponent(service)}${rest}`;

/** One line per step, the current one marked; then what the canary waits for. */
export function describeSteps(report: StepsReport): string {
  if (report.step === null) return `${report.service}: no canary`;
  const lines = report.steps.map((step, index) => {
    const mark = index + 1 === report.step ? (report.done ? '✓' : '▶') : ' ';
    const pause = step.pauseSeconds > 0 ? `, at least ${step.pauseSeconds} s` : '';
    return `${mark} step ${index + 1}: ${step.weight} %${pause}`;
  });
  const waiting = report.pausedBy
    ? `paused by ${report.pausedBy}`
    : report.done
      ? report.confirmPromotion && !report.confirmedBy
        ? `all steps passed; waiting for: cadence confirm ${report.service}`
        : 'all steps passed; promoting'
      : `at ${report.weight} %; the next passing interval moves on`;
  return [`${report.service}: canary ${report.canary}`, ...lines, waiting].join('\n');
}

function stepsCommand(verb: 'steps' | 'pause' | 'resume' | 'confirm', description: string) {
  return withClientOptions(new Command(verb).description(description).argument('<service>')).action(
    async (service: string, flags: ClientFlags) => {
      const report = await call<StepsReport>(
        flags,
        verb === 'steps' ? 'GET' : 'POST',
        path(service, `/${verb}`),
      );
      print(flags, report, () => describeSteps(report));
    },
  );
}

function operationCommand(
  operation: 'deploy' | 'canary' | 'promote' | 'rollback',
  description: string,
): Command {
  const command = withClientOptions(
    new Command(operation).description(description).argument('<service>'),
  );
  if (operation === 'deploy' || operation === 'canary') {
    command
      .option('--commit <sha>', 'commit to deploy (short or full sha)')
      .option('--tag <tag>', 'git tag to deploy');
  }
  if (operation === 'rollback') {
    command.option(
      '--to <rev>',
      'return stable to this kept previous version (version, tag or commit; see `cadence versions`)',
    );
  }
  if (operation === 'canary') {
    command
      .option(
        '--wait',
        "block until the canary's analysis decides: exit 0 promoted, 2 rolled back, 3 inconclusive",
      )
      .option('--timeout <seconds>', 'give up waiting after this long (exit 3)', '3600');
  }
  return command.action(
    async (
      service: string,
      flags: ClientFlags & {
        commit?: string;
        tag?: string;
        to?: string;
        wait?: boolean;
        timeout?: string;
      },
    ) => {
      const body: Record<string, string> = {};
      if (flags.commit) body.commit = flags.commit;
      if (flags.tag) body.tag = flags.tag;
      if (flags.to !== undefined) body.to = flags.to;
      if ((operation === 'deploy' || operation === 'canary') && !flags.commit && !flags.tag) {
        throw new CadenceError('invalid-input', {
          field: 'commit',
          detail: 'give --commit or --tag',
        });
      }
      const result = await call<Applied>(flags, 'POST', path(service, `/${operation}`), body);
      const objects = (list: { kind: string; name: string }[]) =>
        list.map((ref) => `${ref.kind}/${ref.name}`).join(', ') || 'none';
      print(
        flags,
        result,
        () =>
          `${operation} ${service}: ${result.version} (${result.commit.slice(0, 12)}) in ${Math.round(result.durationMs)} ms; applied ${objects(result.applied)}; removed ${objects(result.removed)}`,
      );
      if (operation === 'canary' && flags.wait) await waitForVerdict(flags, result);
    },
  );
}

/** `canary --wait`: the server starts one analysis per canary operation, `canary-<id>`. */
async function waitForVerdict(flags: ClientFlags & { timeout?: string }, canary: Applied) {
  const seconds = Number(flags.timeout ?? '3600');
  if (!(seconds > 0)) {
    throw new CadenceError('invalid-input', { field: 'timeout', detail: 'must be seconds > 0' });
  }
  const id = `canary-${canary.operationId}`;
  // Each interval's judgement as it lands (stderr, so --json's stdout stays one document).
  const done = await waitForAnalysis(await commandTarget(flags, 'api'), id, {
    timeoutMs: seconds * 1000,
    onInterval: (interval) => process.stderr.write(`${intervalLine(interval)}\n`),
  });
  if (!done) {
    process.stderr.write(`cadence: analysis ${id} not decided after ${seconds} s\n`);
    process.exitCode = 3;
    return;
  }
  print(flags, done, () => `analysis ${id}: ${done.status} (${done.verdict ?? 'no verdict'})`);
  process.exitCode = exitCodeForAnalysis(done);
}

/** The deployer verbs: thin calls to the server's `/api/v1/services` API. */
export function deployCommands(): Command[] {
  const ls = withClientOptions(new Command('ls').description('list the deployer services'))
    .option('--names', 'only the names, one per line (for shell completion)')
    .action(async (flags: ClientFlags & { names?: boolean }) => {
      const { services } = await call<{ services: Service[] }>(flags, 'GET', '/api/v1/services');
      if (flags.names) {
        process.stdout.write(services.map((service) => `${service.name}\n`).join(''));
        return;
      }
      print(flags, { services }, () =>
        renderTable(
          ['SERVICE', 'NAMESPACE', 'STABLE', 'CANARY'],
          services.map((service) => [
            service.name,
            service.namespace,
            describeRevision(service.stable),
            describeRevision(service.canary),
          ]),
        ),
      );
    });
  const show = withClientOptions(
    new Command('show')
      .description('a service: config, versions, recent operations')
      .argument('<service>'),
  ).action(async (service: string, flags: ClientFlags) => {
    const shown = await call<
      Service & {
        repository: string;
        previous: Revision | null;
        operations: {
          action: string;
          actor: string;
          outcome: string;
          version?: string;
          startedAt: string;
        }[];
      }
    >(flags, 'GET', path(service));
    print(flags, shown, () =>
      [
        `service:    ${shown.name}`,
        `namespace:  ${shown.namespace}`,
        `repository: ${shown.repository}`,
        `stable:     ${describeRevision(shown.stable)}`,
        `canary:     ${describeRevision(shown.canary)}`,
        `previous:   ${describeRevision(shown.previous)}`,
        '',
        renderTable(
          ['WHEN', 'ACTION', 'BY', 'VERSION', 'RESULT'],
          shown.operations.map((op) => [
            op.startedAt,
            op.action,
            op.actor,
            op.version ?? '-',
            op.outcome,
          ]),
        ),
      ].join('\n'),
    );
  });
  const tags = withClientOptions(
    new Command('tags').description("image tags in the service's registry").argument('<service>'),
  ).action(async (service: string, flags: ClientFlags) => {
    const listed = await call<{ images: { image: string; tags: string[] }[] }>(
      flags,
      'GET',
      path(service, '/tags'),
    );
    print(flags, listed, () =>
      listed.images
        .map((image) => `${image.image}\n${image.tags.map((tag) => `  ${tag}`).join('\n')}`)
        .join('\n'),
    );
  });
  const version = withClientOptions(
    new Command('version')
      .description('the stable and canary versions running')
      .argument('<service>'),
  ).action(async (service: string, flags: ClientFlags) => {
    const running = await call<{
      stable: Revision | null;
      canary: Revision | null;
      previous: Revision | null;
    }>(flags, 'GET', path(service, '/version'));
    print(
      flags,
      running,
      () =>
        `stable: ${describeRevision(running.stable)}\ncanary: ${describeRevision(running.canary)}`,
    );
  });
  const versions = withClientOptions(
    new Command('versions')
      .description('stable, canary and the kept previous versions (`rollback --to` takes any)')
      .argument('<service>'),
  ).action(async (service: string, flags: ClientFlags) => {
    const listed = await call<{
      stable: Revision | null;
      canary: Revision | null;
      previousVersions: Revision[];
    }>(flags, 'GET', path(service, '/version'));
    const row = (what: string, revision: Revision) => [
      what,
      revision.version,
      revision.commit.slice(0, 12),
      revision.tag ?? '-',
      revision.at,
    ];
    print(flags, listed, () =>
      [
        renderTable(
          ['', 'VERSION', 'COMMIT', 'TAG', 'DEPLOYED'],
          [
            ...(listed.stable ? [row('stable', listed.stable)] : []),
            ...(listed.canary ? [row('canary', listed.canary)] : []),
            ...listed.previousVersions.map((revision, index) => row(`kept ${index + 1}`, revision)),
          ],
        ),
        listed.previousVersions.length > 0
          ? `roll back with: cadence rollback ${service} --to VERSION`
          : 'no previous version kept yet',
      ].join('\n'),
    );
  });
  return [
    ls,
    show,
    tags,
    stepsCommand('steps', "the canary's traffic steps: step, weight, pause, confirmation"),
    stepsCommand('pause', 'hold the canary at its traffic step (the analysis keeps judging)'),
    stepsCommand('resume', 'let the canary move through its traffic steps again'),
    stepsCommand('confirm', 'allow the promotion after the last traffic step'),
    versions,
    operationCommand('deploy', 'deploy a service at a commit or tag (stable track)'),
    operationCommand('canary', 'start a canary of a commit or tag next to stable'),
    operationCommand('promote', "make the canary's version stable and remove the canary"),
    operationCommand('rollback', 'remove the canary, or return stable to the previous version'),
    version,
  ];
}
