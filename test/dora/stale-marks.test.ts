/**
 * A fact arriving for a stream another replica is rewriting right now must not be lost: the
 * rewrite read its facts before this one committed, and deletes the stream's stale mark when it
 * commits. The projector's mark waits for that and is inserted afresh. PostgreSQL only: it takes
 * two connections at once, and PGlite has one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { insertFacts } from '../../src/dora/fact-rows.js';
import type { Queryable } from '../../src/store/index.js';
import { openStore } from '../../src/store/index.js';
import { createThrowawayDatabase } from '../support/engines.js';
import { pollUntil } from '../support/poll-until.js';

describe('stale stream marks on postgres', () => {
  it('survive a concurrent rewrite of the same stream', async () => {
    const database = await createThrowawayDatabase();
    const store = await openStore({ databaseUrl: database.url, poolSize: 1 });
    await store.close();
    const rewriter = new pg.Client({ connectionString: database.url });
    const projector = new pg.Client({ connectionString: database.url });
    await rewriter.connect();
    await projector.connect();
    const projectorPid = (await projector.query('select pg_backend_pid() as pid')).rows[0].pid;
    try {
      await rewriter.query(
        `insert into dora_stale_streams (environment, service) values ('production', 'web')`,
      );
      // The rewrite claims the stream, as refreshDeliveries does.
      await rewriter.query('begin');
      const claimed = await rewriter.query(
        `select * from dora_stale_streams order by environment, service for update skip locked`,
      );
      assert.equal(claimed.rowCount, 1);

      // Meanwhile the projector stores a new deployment of that stream.
      await projector.query('begin');
      await projector.query(
        `insert into cdevents (seq, source, id, type, subject_type, predicate, spec_version,
                               timestamp, subject_id, body, transformer)
         values (1, '/t', '1', 't', 'service', 'deployed', '0.5.1', now(), 'web', '{}', 't')`,
      );
      const tx = {
        query: async (sql: string, params?: unknown[]) => {
          const result = await projector.query(sql, params);
          return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
        },
      } as Queryable;
      const marking = insertFacts(tx, [
        {
          kind: 'deployment',
          fact: {
            seq: 1,
            cdeventId: '1',
            service: 'web',
            environment: 'production',
            kind: 'deploy',
            outcome: 'success',
            deployedAt: new Date(),
          },
        },
      ]);
      let marked = false;
      void marking.then(() => (marked = true));
      // The rewrite goes on only once the projector's mark has been written or is waiting for
      // the rewrite's lock (either way, it was made before the rewrite's delete).
      await pollUntil(async () => {
        if (marked) return true;
        const { rows } = await rewriter.query(
          `select wait_event_type from pg_stat_activity where pid = $1`,
          [projectorPid],
        );
        return rows[0]?.wait_event_type === 'Lock';
      }, 'the projector to mark the stream');

      // The rewrite (from its snapshot, without the new deployment) finishes and clears its mark.
      await rewriter.query(
        `delete from dora_stale_streams where environment = 'production' and service = 'web'`,
      );
      await rewriter.query('commit');
      await marking;
      await projector.query('commit');

      const { rows } = await rewriter.query(`select environment, service from dora_stale_streams`);
      assert.deepEqual(rows, [{ environment: 'production', service: 'web' }]);
    } finally {
      await rewriter.end();
      await projector.end();
      await database.drop();
    }
  });
});
