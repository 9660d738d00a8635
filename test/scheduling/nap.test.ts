/**
 * The nap the background loops wait in. Time here is node:test's mocked setTimeout (a real wait
 * would make the test timed), so each case says exactly when a nap must and must not have ended.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createNap, type Nap, type NapEnd } from '../../src/scheduling/index.js';

/** A nap in flight: what it ended with so far (undefined while it still sleeps). */
function watch(promise: Promise<NapEnd>): { ended: () => NapEnd | undefined } {
  let ended: NapEnd | undefined;
  void promise.then((how) => (ended = how));
  return { ended: () => ended };
}

/** Lets settled promises' callbacks run (setImmediate is not mocked here). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

type Step =
  | { do: 'take'; ms: number }
  | { do: 'wake' }
  | { do: 'forget' }
  | { do: 'tick'; ms: number }
  | { do: 'expect'; ended: NapEnd | undefined };

const cases: { name: string; steps: Step[] }[] = [
  {
    name: 'unwoken, it lasts exactly its time',
    steps: [
      { do: 'take', ms: 500 },
      { do: 'tick', ms: 499 },
      { do: 'expect', ended: undefined },
      { do: 'tick', ms: 1 },
      { do: 'expect', ended: 'timed-out' },
    ],
  },
  {
    name: 'a wake ends it at once',
    steps: [
      { do: 'take', ms: 500 },
      { do: 'tick', ms: 100 },
      { do: 'wake' },
      { do: 'expect', ended: 'woken' },
    ],
  },
  {
    name: 'a wake while nobody naps ends the next nap at once',
    steps: [{ do: 'wake' }, { do: 'take', ms: 500 }, { do: 'expect', ended: 'woken' }],
  },
  {
    name: 'a kept wake serves one nap only; the one after sleeps its time',
    steps: [
      { do: 'wake' },
      { do: 'wake' },
      { do: 'take', ms: 500 },
      { do: 'expect', ended: 'woken' },
      { do: 'take', ms: 500 },
      { do: 'tick', ms: 499 },
      { do: 'expect', ended: undefined },
      { do: 'tick', ms: 1 },
      { do: 'expect', ended: 'timed-out' },
    ],
  },
  {
    name: 'a wake that ended a nap is used up by it',
    steps: [
      { do: 'take', ms: 500 },
      { do: 'wake' },
      { do: 'expect', ended: 'woken' },
      { do: 'take', ms: 500 },
      { do: 'tick', ms: 499 },
      { do: 'expect', ended: undefined },
    ],
  },
  {
    name: 'a forgotten wake does not end the next nap',
    steps: [
      { do: 'wake' },
      { do: 'forget' },
      { do: 'take', ms: 500 },
      { do: 'tick', ms: 499 },
      { do: 'expect', ended: undefined },
      { do: 'wake' },
      { do: 'expect', ended: 'woken' },
    ],
  },
  {
    name: 'a nap that timed out leaves no wake behind for the next',
    steps: [
      { do: 'take', ms: 100 },
      { do: 'tick', ms: 100 },
      { do: 'expect', ended: 'timed-out' },
      { do: 'take', ms: 100 },
      { do: 'tick', ms: 99 },
      { do: 'expect', ended: undefined },
    ],
  },
];

async function play(t: TestContext, nap: Nap, steps: Step[]): Promise<void> {
  let current: { ended: () => NapEnd | undefined } | undefined;
  for (const [at, step] of steps.entries()) {
    if (step.do === 'take') current = watch(nap.take(step.ms));
    else if (step.do === 'wake') nap.wake();
    else if (step.do === 'forget') nap.forgetWake();
    else if (step.do === 'tick') t.mock.timers.tick(step.ms);
    else {
      await flush();
      assert.equal(current?.ended(), step.ended, `step ${at}`);
    }
  }
}

describe('createNap', () => {
  for (const { name, steps } of cases) {
    it(name, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      await play(t, createNap(), steps);
    });
  }

  it('an unref nap does not hold the process open; a plain one does', async () => {
    // Real timers: whether a timer keeps Node alive is a property of the real Timeout object.
    const held = createNap();
    const loose = createNap({ unref: true });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const heldNap = held.take(60_000);
    assert.equal(
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
      before + 1,
    );
    const looseNap = loose.take(60_000);
    assert.equal(
      process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
      before + 1,
    );
    held.wake();
    loose.wake();
    assert.deepEqual(await Promise.all([heldNap, looseNap]), ['woken', 'woken']);
    // A woken nap clears its timer: nothing is left behind to fire later.
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  });
});
