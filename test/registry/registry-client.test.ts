import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CadenceError } from '../../src/problem/index.js';
import { createRegistryClient, tagForCommit } from '../../src/registry/index.js';
import { parseChallenge } from '../../src/registry/registry-client.js';
import { startRegistry, type TestRegistry } from '../support/oci-registry.js';

const SHA = '025838f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7';

describe('commit → image tag (<branch>-<sha>)', () => {
  const cases: [string, string[], string, string | undefined][] = [
    ['short sha', ['main-025838f', 'v1.0'], SHA, 'main-025838f'],
    ['full sha', [`main-${SHA}`], SHA, `main-${SHA}`],
    ['branch with dashes', ['feature-x-025838f1'], SHA, 'feature-x-025838f1'],
    ['longest sha wins', ['main-025838f', 'main-025838f1c2'], SHA, 'main-025838f1c2'],
    ['first by name on a tie', ['release-025838f', 'main-025838f'], SHA, 'main-025838f'],
    ['another commit', ['main-125838f'], SHA, undefined],
    ['too short a sha', ['main-0258'], SHA, undefined],
    ['uppercase commit given', ['main-025838f'], SHA.toUpperCase(), 'main-025838f'],
  ];
  for (const [name, tags, commit, expected] of cases) {
    it(name, () => assert.equal(tagForCommit(tags, commit), expected));
  }
});

describe('WWW-Authenticate challenges', () => {
  it('reads a bearer challenge with quoted parameters', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:web:pull"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:web:pull',
        },
      },
    );
    assert.deepEqual(parseChallenge('Basic realm=x'), { scheme: 'basic', params: { realm: 'x' } });
  });
});

describe('registry client against docker-registry (no auth)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
    for (let i = 0; i < 7; i++) await registry.push('team/web', `main-${i}00000${i}`);
  });
  after(() => registry.stop());

  it('lists every tag across pages of n', async () => {
    const client = createRegistryClient({ url: registry.url, pageSize: 3 });
    const tags = await client.listTags('team/web');
    assert.equal(tags.length, 7);
    assert.ok(tags.includes('main-3000003'));
  });

  it('answers an unknown repository with no tags', async () => {
    const client = createRegistryClient({ url: registry.url });
    assert.deepEqual(await client.listTags('team/nothing'), []);
  });

  it('finds a manifest by tag and by digest, and not a missing tag', async () => {
    const client = createRegistryClient({ url: registry.url });
    const digest = await registry.push('team/api', 'v1');
    assert.equal(await client.hasManifest('team/api', 'v1'), true);
    assert.equal(await client.hasManifest('team/api', digest), true);
    assert.equal(await client.hasManifest('team/api', 'v2'), false);
  });

  it('reports an unreachable registry as unavailable, naming it', async () => {
    const client = createRegistryClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await assert.rejects(
      client.listTags('web'),
      (error: CadenceError) => error.code === 'unavailable' && error.field === 'registry',
    );
  });
});

describe('registry client with basic auth (htpasswd)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({ kind: 'htpasswd', username: 'ci', password: 's3cret' });
    await registry.push('web', 'main-025838f');
  });
  after(() => registry.stop());

  it('answers the basic challenge with the configured credentials', async () => {
    const client = createRegistryClient({ url: registry.url, username: 'ci', password: 's3cret' });
    assert.deepEqual(await client.listTags('web'), ['main-025838f']);
    assert.equal(await client.hasManifest('web', 'main-025838f'), true);
  });

  it('refuses without or with wrong credentials', async () => {
    await assert.rejects(
      createRegistryClient({ url: registry.url }).listTags('web'),
      /no credentials/,
    );
    await assert.rejects(
      createRegistryClient({ url: registry.url, username: 'ci', password: 'wrong' }).listTags(
        'web',
      ),
      /refused the credentials/,
    );
  });
});

describe('registry client with the bearer-token flow', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry({ kind: 'token', username: 'ci', password: 's3cret' });
    await registry.push('team/web', 'main-025838f');
  });
  after(() => registry.stop());

  it('follows 401 → token endpoint (with the challenge scope) → retry, and reuses the token', async () => {
    const client = createRegistryClient({ url: registry.url, username: 'ci', password: 's3cret' });
    registry.tokenRequests.length = 0;
    assert.deepEqual(await client.listTags('team/web'), ['main-025838f']);
    assert.equal(await client.hasManifest('team/web', 'main-025838f'), true);
    assert.equal(await client.hasManifest('team/web', 'nope'), false);
    assert.deepEqual(registry.tokenRequests, [
      { scope: 'repository:team/web:pull', service: 'cadence-test-registry', authorized: true },
    ]);
  });

  it('fails clearly when the token endpoint refuses the credentials', async () => {
    const client = createRegistryClient({ url: registry.url, username: 'ci', password: 'nope' });
    await assert.rejects(client.listTags('team/web'), /token endpoint .* answered 401/);
  });
});
