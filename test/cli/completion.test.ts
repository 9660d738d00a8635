/**
 * Completion scripts generated from the command tree, run in the real bash. Service names come
 * from `cadence ls --names`; here a stand-in `cadence` on PATH prints two names (the real server
 * behind it is covered by test/e2e/deploy-journey.test.ts). zsh and fish are not installed on
 * the test machine, so their scripts are checked as text only.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { completionEntries, completionScript } from '../../src/cli/completion.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cadence-completion-'));
writeFileSync(
  join(dir, 'cadence'),
  '#!/bin/sh\n[ "$1 $2" = "ls --names" ] && printf "web\\nworker\\n"\n',
  {
    mode: 0o755,
  },
);

function complete(script: string, words: string[]): string[] {
  const file = join(dir, 'completion.bash');
  writeFileSync(file, script);
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source ${file}; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _cadence; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } },
  );
  return out.trim().split(/\s+/).filter(Boolean);
}

const tree = () => {
  const program = new Command('cadence');
  program
    .command('deploy')
    .description('deploy: a service')
    .argument('<service>')
    .option('--commit <sha>');
  const events = program.command('events').description("read what's arrived");
  events.command('list');
  events.command('show');
  program.command('serve').option('--port <n>');
  return program;
};

describe('cadence completion', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('completes commands, subcommands, options and service names in bash', () => {
    const script = completionScript('bash', completionEntries(tree()));
    assert.deepEqual(complete(script, ['cadence', '']), ['deploy', 'events', 'serve']);
    assert.deepEqual(complete(script, ['cadence', 'events', '']), ['list', 'show']);
    assert.deepEqual(complete(script, ['cadence', 'deploy', 'w']), ['web', 'worker']);
    assert.deepEqual(complete(script, ['cadence', 'deploy', '--c']), ['--commit']);
    assert.deepEqual(complete(script, ['cadence', 'serve', '']), [], 'serve takes no service');
  });

  it('covers every command of the real CLI (nothing kept by hand)', () => {
    const script = spawnSync(process.execPath, ['--import', 'tsx', main, 'completion', 'bash'], {
      encoding: 'utf8',
    }).stdout;
    const commands = complete(script, ['cadence', '']);
    for (const name of [
      'rollouts',
      'analyses',
      'canary-wait',
      'updates',
      'approve',
      'events',
      'completion',
    ])
      assert.ok(commands.includes(name), name);
    assert.deepEqual(complete(script, ['cadence', 'promote', '']), ['web', 'worker']);
  });

  it('writes zsh and fish scripts from the same tree', () => {
    const entries = completionEntries(tree());
    const zsh = completionScript('zsh', entries);
    assert.match(zsh, /^#compdef cadence/);
    assert.match(zsh, /'deploy:deploy\\: a service'/);
    assert.match(
      zsh,
      /deploy\)\n\s+\(\( CURRENT == 3 \)\) && compadd -- \$\{\(f\)"\$\(cadence ls --names/,
    );
    const fish = completionScript('fish', entries);
    assert.match(
      fish,
      /complete -c cadence -n __fish_use_subcommand -a events -d 'read what\\'s arrived'/,
    );
    assert.match(fish, /__fish_seen_subcommand_from events' -a 'list show'/);
    assert.match(fish, /__fish_seen_subcommand_from deploy' -a '\(cadence ls --names/);
  });
});
