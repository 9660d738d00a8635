/** The rules: globs with a package capture, first match per file, merges, and schema errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyCommit,
  classifyFile,
  compileGlob,
  parseRules,
  subjectOf,
} from '../../src/git/rules.js';
import { CadenceError } from '../../src/problem/index.js';
import { PROMOTION_RULES, VENDORING_RULES } from '../support/git-fixture.js';

describe('compileGlob', () => {
  const cases: [glob: string, file: string, expected: { package: string | null } | null][] = [
    [
      'packages/vendored/{package}/**',
      'packages/vendored/nginx/conf/nginx.conf',
      { package: 'nginx' },
    ],
    ['packages/vendored/{package}/**', 'packages/vendored/nginx/.gitignore', { package: 'nginx' }],
    // A file beside the package folders is not a package.
    ['packages/vendored/{package}/**', 'packages/vendored/README.md', null],
    ['packages/vendored/{package}/**', 'packages/other/nginx/x', null],
    ['**/{package}/values.yaml', 'clusters/eu/api/values.yaml', { package: 'api' }],
    ['**/{package}/values.yaml', 'api/values.yaml', { package: 'api' }],
    ['charts/{package}-chart/*.yaml', 'charts/web-chart/Chart.yaml', { package: 'web' }],
    ['charts/{package}.yaml', 'charts/web.yaml', { package: 'web' }],
    ['charts/{package}.yaml', 'charts/sub/web.yaml', null],
    ['sync/prod/**', 'sync/prod/a/b.yaml', { package: null }],
    ['sync/prod/**', 'sync/production/a', null],
    ['sync/{prod,staging}/*.yaml', 'sync/staging/x.yaml', { package: null }],
  ];
  for (const [glob, file, expected] of cases) {
    it(`${glob} on ${file} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(compileGlob(glob)(file), expected);
    });
  }
});

describe('subjectOf', () => {
  it('is the first line of the message', () => {
    assert.equal(subjectOf('Deploy (#2)\n\n* body (#3)'), 'Deploy (#2)');
    assert.equal(subjectOf('one line'), 'one line');
  });
});

describe('classifyFile', () => {
  const vendoring = parseRules(VENDORING_RULES);
  const promotion = parseRules(PROMOTION_RULES);
  type Case = [
    name: string,
    rules: typeof vendoring,
    commit: { message: string; parents: number },
    file: string,
    expected: [purpose: string, pkg: string | null] | null,
  ];
  // The blog's vendoring bot writes the package list in the body, under a generic subject.
  const whole = parseRules(`purposes:
  - name: bot-vendoring
    role: cause
    message: '^Vendored-By: renovate$'
    wholeMessage: true
    paths: ['packages/vendored/{package}/**']
  - name: deploy
    role: deploy
    paths: ['deploy/prod/{package}/**']
    wholeMessage: true
    merge: { message: '^Squashed-From: #\\d+$' }
`);
  const cases: Case[] = [
    [
      'wholeMessage: a pattern anchored on a body line',
      whole,
      { message: 'Update packages\n\nVendored-By: renovate\nSigned-off-by: x', parents: 1 },
      'packages/vendored/nginx/VERSION',
      ['bot-vendoring', 'nginx'],
    ],
    [
      'wholeMessage: the body line missing',
      whole,
      { message: 'Update packages\n\nby hand', parents: 1 },
      'packages/vendored/nginx/VERSION',
      null,
    ],
    [
      'wholeMessage: a merge requirement met in the body',
      whole,
      { message: 'Deploy\n\nSquashed-From: #7', parents: 1 },
      'deploy/prod/nginx/version',
      ['deploy', 'nginx'],
    ],
    [
      'without wholeMessage a body line never matches the subject pattern',
      parseRules(
        "purposes: [{ name: v, role: cause, message: '^Vendored-By', paths: ['p/{package}/**'] }]",
      ),
      { message: 'Update\n\nVendored-By: renovate', parents: 1 },
      'p/nginx/VERSION',
      null,
    ],
    [
      'a vendoring',
      vendoring,
      { message: 'vendor nginx', parents: 1 },
      'packages/vendored/nginx/VERSION',
      ['vendoring', 'nginx'],
    ],
    [
      'a revert wins over the vendoring (first match)',
      vendoring,
      { message: 'Revert "vendor nginx"', parents: 1 },
      'packages/vendored/nginx/VERSION',
      ['revert', null],
    ],
    [
      '"Revert" only at the start of the subject',
      vendoring,
      { message: 'vendor nginx\n\nRevert later', parents: 1 },
      'packages/vendored/nginx/VERSION',
      ['vendoring', 'nginx'],
    ],
    [
      'a merge commit deploys',
      vendoring,
      { message: 'Merge pull request #1', parents: 2 },
      'deploy/prod/nginx/version',
      ['deploy', 'nginx'],
    ],
    [
      'a squash merge deploys by its subject',
      vendoring,
      { message: 'Deploy (#12)\n\n* x', parents: 1 },
      'deploy/prod/redis/version',
      ['deploy', 'redis'],
    ],
    [
      'a branch commit does not deploy',
      vendoring,
      { message: 'bump nginx', parents: 1 },
      'deploy/prod/nginx/version',
      null,
    ],
    [
      '"(#12)" must end the subject',
      vendoring,
      { message: 'Deploy (#12) and more', parents: 1 },
      'deploy/prod/nginx/version',
      null,
    ],
    ['no purpose for other files', vendoring, { message: 'docs', parents: 1 }, 'README.md', null],
    [
      'a staging deploy',
      promotion,
      { message: 'x', parents: 1 },
      'envs/staging/api/values.yaml',
      ['staging', 'api'],
    ],
    [
      'a production deploy',
      promotion,
      { message: 'x', parents: 1 },
      'envs/prod/web/deployment.yaml',
      ['prod', 'web'],
    ],
    [
      'a package by substring, first listed wins',
      promotion,
      { message: 'x', parents: 1 },
      'platform/prod/ingress-cert-manager.yaml',
      ['platform', 'ingress'],
    ],
    [
      'a platform file no package claims',
      promotion,
      { message: 'x', parents: 1 },
      'platform/prod/README.md',
      ['platform', null],
    ],
  ];
  for (const [name, rules, commit, file, expected] of cases) {
    it(name, () => {
      const match = classifyFile(rules, commit, file);
      assert.deepEqual(match && [match.purpose.name, match.package], expected);
    });
  }

  it('gives one event per role and package in a commit, and counts files without a package', () => {
    const { events, unattributed } = classifyCommit(promotion, {
      id: 'c1',
      message: 'prod: many',
      authorWhen: new Date('2024-03-01T00:00:00Z'),
      parents: 1,
      files: [
        'envs/prod/api/a.yaml',
        'envs/prod/api/b.yaml',
        'envs/prod/web/a.yaml',
        'platform/prod/README.md',
        'platform/prod/cert-manager.yaml',
        'envs/staging/api/a.yaml',
      ],
    });
    assert.deepEqual(
      events.map((e) => [e.role, e.purpose, e.environment, e.package]),
      [
        ['deploy', 'prod', 'prod', 'api'],
        ['deploy', 'prod', 'prod', 'web'],
        ['deploy', 'platform', 'prod', 'cert-manager'],
        ['deploy', 'staging', 'staging', 'api'],
      ],
    );
    assert.equal(unattributed, 1);
  });

  it('deploys go to "production" when the rules list no environments', () => {
    assert.deepEqual(
      [vendoring.environments, vendoring.production],
      [['production'], 'production'],
    );
    assert.equal(vendoring.purposes.find((p) => p.name === 'deploy')!.environment, 'production');
    assert.equal(promotion.production, 'prod');
  });
});

describe('parseRules refuses bad rules, naming the field', () => {
  const cases: [name: string, yaml: string, field: string, message: RegExp][] = [
    ['not YAML', 'purposes: [', 'rules', /not valid YAML/],
    ['not a mapping', '- a', 'rules', /must be a YAML mapping/],
    ['no purposes', 'environments: [prod]', 'rules.purposes', /expected array/],
    [
      'an unknown key',
      'purposes: [{ name: a, role: cause, paths: ["{package}/**"], pathz: [] }]',
      'rules.purposes.0.pathz',
      /Unrecognized key/,
    ],
    [
      'an unknown role',
      'purposes: [{ name: a, role: ship, paths: ["x/**"] }]',
      'rules.purposes.0.role',
      /cause.*deploy.*ignore/,
    ],
    [
      'neither paths nor message',
      'purposes: [{ name: a, role: ignore }]',
      'rules.purposes.0',
      /needs paths and\/or a message/,
    ],
    [
      'a bad message pattern',
      'purposes: [{ name: a, role: ignore, message: "(" }]',
      'rules.purposes.0.message',
      /valid regular expression/,
    ],
    [
      'a cause without a package',
      'purposes: [{ name: a, role: cause, paths: ["vendor/**"] }]',
      'rules.purposes.0.paths.0',
      /needs a package/,
    ],
    [
      'two captures',
      'purposes: [{ name: a, role: cause, paths: ["{package}/{package}/**"] }]',
      'rules.purposes.0.paths.0',
      /may appear once/,
    ],
    [
      'a message-only deploy without packages',
      'purposes: [{ name: a, role: deploy, message: "^Deploy" }]',
      'rules.purposes.0.packages',
      /needs packages/,
    ],
    [
      'a duplicate name',
      'purposes: [{ name: a, role: ignore, message: x }, { name: a, role: ignore, message: y }]',
      'rules.purposes.1.name',
      /used twice/,
    ],
    [
      'an environment on a cause',
      'environments: [prod]\npurposes: [{ name: a, role: cause, paths: ["{package}/**"], environment: prod }]',
      'rules.purposes.0.environment',
      /only a deploy/,
    ],
    [
      'an environment not listed',
      'purposes: [{ name: a, role: deploy, paths: ["{package}/**"], environment: prod }]',
      'rules.purposes.0.environment',
      /not in environments/,
    ],
    [
      'an empty merge requirement',
      'purposes: [{ name: a, role: deploy, paths: ["{package}/**"], merge: {} }]',
      'rules.purposes.0.merge',
      /parents: true and\/or a message/,
    ],
    [
      'a repeated environment',
      'environments: [a, a]\npurposes: [{ name: a, role: ignore, message: x }]',
      'rules.environments',
      /twice/,
    ],
  ];
  for (const [name, yaml, field, message] of cases) {
    it(name, () => {
      assert.throws(
        () => parseRules(yaml),
        (error: unknown) => {
          assert.ok(error instanceof CadenceError, String(error));
          assert.equal(error.code, 'invalid-input');
          assert.equal(error.field, field, error.message);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
