/**
 * The contract every source keeps, run by each source's test file with its own fixture, on every
 * engine, through the real app and its router: `POST /webhooks/{source}` for the producers with
 * their own webhook format, `POST /events` for the CloudEvents ones (Tekton, ApiServerSource).
 * - auth: a missing or wrong secret or token is refused (401/403 problem+json naming the field);
 * - shape errors: 4xx problem+json naming the field, nothing stored;
 * - idempotency: the same delivery twice is stored once and counted once (the same CDEvents);
 * - notes: what the transformer could not map is said on the stored event (`route_note`).
 * A part that cannot apply to a source is skipped with the fixture's written reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createToken } from '../../src/auth/index.js';
import type { Store } from '../../src/store/index.js';
import { routeAll, type testApp } from '../support/app.js';
import { engines } from '../support/engines.js';
import { postDelivery } from '../support/source-deliveries.js';
import { appPerSuite } from '../support/suite-app.js';

/** One HTTP delivery: its raw body and its headers (content type included). */
export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

export interface SourceContractFixture {
  /** The source's name (its transformer's). */
  source: string;
  /** Where deliveries go; `/webhooks/{source}` when absent. */
  path?: string;
  /** The app's receivers, source settings (a secret or token configured) and `server.auth`. */
  app: NonNullable<Parameters<typeof testApp>[1]>;
  /** Runs once the store is open (e.g. to mint the tokens the deliveries carry). */
  setUp?: (store: Store) => Promise<void>;
  /** A valid delivery the transformer maps into at least one CDEvent, properly authorised. */
  valid: () => Delivery;
  /** The valid delivery with its secret or token missing or wrong, each refused naming `field`. */
  unauthorised: () => (Delivery & { name: string; status: 401 | 403; field: string })[];
  /** Authorised deliveries of the wrong shape, each refused with a 4xx naming `field`. */
  shapeErrors: () => (Delivery & { name: string; field: string })[];
  /**
   * An authorised delivery the source accepts but cannot fully map, and what its note says; or,
   * where no accepted delivery can be unmappable, why not (the test is skipped with it).
   */
  unmapped: (() => Delivery & { note: RegExp }) | { notApplicable: string };
}

export function sourceContract(fixture: SourceContractFixture): void {
  for (const engine of engines) {
    const through = fixture.path ? ` through ${fixture.path}` : '';
    describe(`${fixture.source} source contract${through} (${engine})`, () => {
      const suite = appPerSuite(engine, fixture.app, fixture.setUp);

      const post = (delivery: Delivery) =>
        postDelivery(suite.app, fixture.path ?? `/webhooks/${fixture.source}`, delivery);
      const count = async (table: 'events' | 'cdevents') => {
        const { rows } = await suite.store.query<{ n: string | number }>(
          `select count(*) as n from ${table}`,
        );
        return Number(rows[0]!.n);
      };
      const refused = (
        response: Awaited<ReturnType<typeof post>>,
        status: number,
        field: string,
        name: string,
      ) => {
        assert.equal(response.statusCode, status, `${name}: ${response.body}`);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/, name);
        assert.equal((response.json() as { field?: string }).field, field, name);
      };

      it('refuses a missing or wrong secret with 401/403 problem+json naming the field, storing nothing', async () => {
        const unauthorised = fixture.unauthorised();
        assert.ok(unauthorised.length > 0, 'the fixture has unauthorised deliveries');
        for (const { name, status, field, ...delivery } of unauthorised) {
          refused(await post(delivery), status, field, name);
        }
        assert.equal(await count('events'), 0);
      });

      it('refuses a delivery of the wrong shape with 4xx problem+json naming the field, storing nothing', async () => {
        const shapeErrors = fixture.shapeErrors();
        assert.ok(shapeErrors.length > 0, 'the fixture has shape errors');
        for (const { name, field, ...delivery } of shapeErrors) {
          const response = await post(delivery);
          assert.ok(response.statusCode >= 400 && response.statusCode < 500, name);
          refused(response, response.statusCode, field, name);
        }
        assert.equal(await count('events'), 0);
      });

      it('stores the same delivery twice once, and counts it once', async () => {
        const first = await post(fixture.valid());
        assert.equal(first.statusCode, 202, first.body);
        const again = await post(fixture.valid());
        assert.equal(again.statusCode, 202, again.body);
        assert.equal(await count('events'), 1, 'stored once');
        await routeAll(suite.router);
        const made = await count('cdevents');
        assert.ok(made > 0, 'the valid delivery makes CDEvents');
        assert.equal((await post(fixture.valid())).statusCode, 202);
        await routeAll(suite.router);
        assert.equal(await count('events'), 1, 'still stored once');
        assert.equal(await count('cdevents'), made, 'counted once');
      });

      const { unmapped } = fixture;
      const skip = 'notApplicable' in unmapped ? unmapped.notApplicable : false;
      it('says on the stored event what the transformer could not map', { skip }, async () => {
        if ('notApplicable' in unmapped) return;
        const { note, ...delivery } = unmapped();
        const response = await post(delivery);
        assert.equal(response.statusCode, 202, response.body);
        await routeAll(suite.router);
        const { rows } = await suite.store.query<{ route_note: string | null }>(
          'select route_note from events order by seq desc limit 1',
        );
        assert.match(rows[0]?.route_note ?? '', note);
      });
    });
  }
}

/**
 * For the CloudEvents producers (no secret of their own): `server.auth.ingest` on, an ingest
 * token for this source and one for another, as `Authorization` headers once `setUp` ran.
 */
export function ingestTokens(source: string) {
  const headers = { mine: {} as Record<string, string>, other: {} as Record<string, string> };
  return {
    auth: { read: false, ingest: true },
    headers,
    async setUp(store: Store) {
      const mine = await createToken(store, {
        name: `${source}-ci`,
        services: ['*'],
        actions: ['ingest'],
        sources: [source],
      });
      const other = await createToken(store, {
        name: 'another-producer',
        services: ['*'],
        actions: ['ingest'],
        sources: ['github'],
      });
      headers.mine = { authorization: `Bearer ${mine.name}:${mine.secret}` };
      headers.other = { authorization: `Bearer ${other.name}:${other.secret}` };
    },
  };
}
