import type { Store } from '../store/index.js';
import { insertFacts, type ResolveIncidents } from './fact-rows.js';
import { factFromCdevent, type CdeventRecord, type Fact } from './facts.js';

/**
 * Brings the fact tables up to date with the cdevents table. Unprojected CDEvents are claimed in
 * batches with `for update skip locked` (replicas never project the same one twice, and one whose
 * transaction fails stays unprojected), turned into facts and marked, in one transaction.
 * Facts are idempotent and order-free, so batches may commit in any order.
 * `resolveIncidents` re-resolves, in each batch's transaction, the incidents its facts can move.
 * Returns how many CDEvents were read.
 */
export async function projectFacts(
  store: Store,
  batchSize = 5000,
  resolveIncidents?: ResolveIncidents,
): Promise<number> {
  let total = 0;
  for (;;) {
    const read = await store.transaction(async (tx) => {
      const { rows } = await tx.query<{
        seq: number;
        subject_type: string;
        predicate: string;
        timestamp: Date;
        body: Record<string, unknown>;
        received_at: Date;
      }>(
        `select c.seq, c.subject_type, c.predicate, c.timestamp, c.body,
                coalesce(e.received_at, c.stored_at) as received_at
         from cdevents c left join events e on e.seq = c.event_seq
         where c.projected_at is null order by c.seq limit $1 for update of c skip locked`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      const facts = rows
        .map((row): CdeventRecord => ({
          seq: Number(row.seq),
          subjectType: row.subject_type,
          predicate: row.predicate,
          timestamp: new Date(row.timestamp),
          body: row.body,
        }))
        .map(factFromCdevent)
        .filter((fact): fact is Fact => fact !== undefined);
      const since = Math.min(...rows.map((row) => new Date(row.received_at).getTime()));
      await insertFacts(tx, facts, new Date(since), resolveIncidents);
      await tx.query(`update cdevents set projected_at = now() where seq = any($1::int8[])`, [
        rows.map((row) => Number(row.seq)),
      ]);
      return rows.length;
    });
    total += read;
    if (read < batchSize) return total;
  }
}
