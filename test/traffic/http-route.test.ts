/**
 * The traffic module's pure rules, table-driven: the HTTPRoute's rules at a weight (and back),
 * the strategy's validation (each error names its field), durations, and how a passing interval
 * moves the steps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canaryWeight,
  trafficNames,
  weightedRules,
  type RouteRule,
} from '../../src/traffic/http-route.js';
import { nextStep, type StepState } from '../../src/traffic/next-step.js';
import { durationSeconds, trafficStrategySchema } from '../../src/traffic/schema.js';

const n = trafficNames('web');
const plain: RouteRule[] = [
  {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    backendRefs: [{ name: 'web', port: 80 }],
  },
];
const header = { name: 'x-canary', value: 'always', type: 'Exact' as const };

describe('weightedRules', () => {
  const rows: {
    name: string;
    rules: RouteRule[];
    weight: number;
    header?: typeof header;
    want: RouteRule[];
  }[] = [
    {
      name: '5 %: the service becomes stable 95 / canary 5, same port',
      rules: plain,
      weight: 5,
      want: [
        {
          matches: plain[0]!.matches,
          backendRefs: [
            { name: 'web-stable', port: 80, weight: 95 },
            { name: 'web-canary', port: 80, weight: 5 },
          ],
        },
      ],
    },
    {
      name: 'weight 0: stable alone, through the track Service',
      rules: plain,
      weight: 0,
      want: [{ matches: plain[0]!.matches, backendRefs: [{ name: 'web-stable', port: 80 }] }],
    },
    {
      name: 'a header route: a rule with the header sends to the canary alone, first',
      rules: plain,
      weight: 25,
      header,
      want: [
        {
          matches: [
            {
              path: { type: 'PathPrefix', value: '/' },
              headers: [{ type: 'Exact', name: 'x-canary', value: 'always' }],
            },
          ],
          backendRefs: [{ name: 'web-canary', port: 80 }],
        },
        {
          matches: plain[0]!.matches,
          backendRefs: [
            { name: 'web-stable', port: 80, weight: 75 },
            { name: 'web-canary', port: 80, weight: 25 },
          ],
        },
      ],
    },
    {
      name: "other services' refs and rules are left as they are",
      rules: [
        {
          backendRefs: [
            { name: 'web', port: 80 },
            { name: 'legacy', port: 8080, weight: 10 },
          ],
        },
        { backendRefs: [{ name: 'api', port: 80 }] },
      ],
      weight: 50,
      want: [
        {
          backendRefs: [
            { name: 'web-stable', port: 80, weight: 50 },
            { name: 'web-canary', port: 80, weight: 50 },
            { name: 'legacy', port: 8080, weight: 10 },
          ],
        },
        { backendRefs: [{ name: 'api', port: 80 }] },
      ],
    },
    {
      name: 'a ref to another namespace or kind named web is not the service',
      rules: [{ backendRefs: [{ name: 'web', namespace: 'other', port: 80 }] }],
      weight: 5,
      want: [{ backendRefs: [{ name: 'web', namespace: 'other', port: 80 }] }],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(weightedRules(row.rules, n, row.weight, row.header), row.want);
    });
  }

  it('converges: any weight over any earlier weight gives the same rules as over the original', () => {
    for (const first of [0, 5, 25, 50, 100]) {
      for (const second of [0, 5, 25, 50, 100]) {
        const over = weightedRules(weightedRules(plain, n, first, header), n, second, header);
        assert.deepEqual(over, weightedRules(plain, n, second, header), `${first} then ${second}`);
        assert.equal(canaryWeight(over, n), second);
      }
    }
  });
});

describe('the traffic strategy', () => {
  const valid = {
    httpRoute: 'web',
    steps: [{ weight: 5, pause: '2m' }, { weight: 25 }, { weight: 50 }],
  };
  it('reads pauses as seconds and fills the defaults', () => {
    const parsed = trafficStrategySchema.parse(valid);
    assert.deepEqual(parsed.steps, [
      { weight: 5, pause: 120 },
      { weight: 25, pause: 0 },
      { weight: 50, pause: 0 },
    ]);
    assert.equal(parsed.confirmPromotion, false);
  });
  const refused: { name: string; input: unknown; path: string }[] = [
    { name: 'no steps', input: { httpRoute: 'web', steps: [] }, path: 'steps' },
    {
      name: 'a weight above 100',
      input: { ...valid, steps: [{ weight: 101 }] },
      path: 'steps.0.weight',
    },
    { name: 'a weight of 0', input: { ...valid, steps: [{ weight: 0 }] }, path: 'steps.0.weight' },
    {
      name: 'weights that do not increase',
      input: { ...valid, steps: [{ weight: 25 }, { weight: 5 }] },
      path: 'steps.1.weight',
    },
    {
      name: 'a bad pause',
      input: { ...valid, steps: [{ weight: 5, pause: 'soon' }] },
      path: 'steps.0.pause',
    },
    {
      name: 'a route name that is no object name',
      input: { ...valid, httpRoute: 'Web_1' },
      path: 'httpRoute',
    },
    {
      name: 'a header that is no header name',
      input: { ...valid, headerRoute: { name: 'x canary', value: '1' } },
      path: 'headerRoute.name',
    },
    { name: 'an unknown key', input: { ...valid, weights: [5] }, path: '' },
  ];
  for (const row of refused) {
    it(`refuses ${row.name}, naming ${row.path || 'the key'}`, () => {
      const result = trafficStrategySchema.safeParse(row.input);
      assert.equal(result.success, false);
      assert.equal(result.error!.issues[0]!.path.join('.'), row.path);
    });
  }
  const durations: [string | number, number | undefined][] = [
    ['2m', 120],
    ['90s', 90],
    ['1h', 3600],
    ['1m30s', 90],
    ['500ms', 0.5],
    [45, 45],
    ['2 m', undefined],
    ['m', undefined],
    ['10', undefined],
    [-1, undefined],
  ];
  for (const [input, want] of durations) {
    it(`duration ${JSON.stringify(input)} → ${want}`, () =>
      assert.equal(durationSeconds(input), want));
  }
});

describe('nextStep', () => {
  const t = (seconds: number) => new Date(Date.UTC(2026, 11, 4, 12, 0, seconds));
  const strategy = {
    steps: [
      { weight: 5, pause: 120 },
      { weight: 25, pause: 0 },
      { weight: 50, pause: 0 },
    ],
    confirmPromotion: false,
  };
  const start: StepState = {
    service: 'web',
    version: 'v2',
    step: 0,
    stepStartedAt: t(0),
    lastInterval: null,
    done: false,
    pausedBy: null,
    confirmedBy: null,
  };
  const rows: {
    name: string;
    state?: Partial<StepState>;
    confirm?: boolean;
    interval: { key: string; windowStart: Date };
    now: Date;
    want: { step: number; done: boolean; weight: number; promote: boolean; detail: RegExp };
  }[] = [
    {
      name: 'a pass inside the pause holds at 5 %',
      interval: { key: 'a/0', windowStart: t(0) },
      now: t(60),
      want: { step: 0, done: false, weight: 5, promote: false, detail: /holds until/ },
    },
    {
      name: 'a pass after the pause moves to 25 %',
      interval: { key: 'a/3', windowStart: t(90) },
      now: t(125),
      want: {
        step: 1,
        done: false,
        weight: 25,
        promote: false,
        detail: /step 2 of 3: canary at 25 %/,
      },
    },
    {
      name: 'an interval that began before the step is not evidence for it',
      state: { step: 1, stepStartedAt: t(125), lastInterval: 'a/3' },
      interval: { key: 'a/4', windowStart: t(120) },
      now: t(160),
      want: {
        step: 1,
        done: false,
        weight: 25,
        promote: false,
        detail: /after this interval began/,
      },
    },
    {
      name: 'the same interval twice counts once',
      state: { step: 1, stepStartedAt: t(100), lastInterval: 'a/4' },
      interval: { key: 'a/4', windowStart: t(120) },
      now: t(160),
      want: { step: 1, done: false, weight: 25, promote: false, detail: /already counted/ },
    },
    {
      name: 'paused: nothing moves',
      state: { pausedBy: 'ana' },
      interval: { key: 'a/5', windowStart: t(200) },
      now: t(300),
      want: { step: 0, done: false, weight: 5, promote: false, detail: /paused by ana/ },
    },
    {
      name: 'a pass at the last step lets the analysis promote',
      state: { step: 2, stepStartedAt: t(200) },
      interval: { key: 'a/8', windowStart: t(210) },
      now: t(250),
      want: { step: 2, done: true, weight: 50, promote: true, detail: /all 3 steps passed/ },
    },
    {
      name: 'with confirmPromotion, the last step waits for a person',
      state: { step: 2, stepStartedAt: t(200) },
      confirm: true,
      interval: { key: 'a/8', windowStart: t(210) },
      now: t(250),
      want: { step: 2, done: true, weight: 50, promote: false, detail: /cadence confirm web/ },
    },
    {
      name: 'confirmed: promote',
      state: { step: 2, done: true, confirmedBy: 'ana' },
      confirm: true,
      interval: { key: 'a/9', windowStart: t(240) },
      now: t(280),
      want: { step: 2, done: true, weight: 50, promote: true, detail: /all 3 steps passed/ },
    },
    {
      name: 'done but paused: no promotion',
      state: { step: 2, done: true, pausedBy: 'ana' },
      interval: { key: 'a/9', windowStart: t(240) },
      now: t(280),
      want: { step: 2, done: true, weight: 50, promote: false, detail: /paused by ana/ },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const decision = nextStep(
        { ...start, ...row.state },
        { ...strategy, confirmPromotion: row.confirm ?? false },
        row.interval,
        row.now,
      );
      assert.equal(decision.state.step, row.want.step);
      assert.equal(decision.state.done, row.want.done);
      assert.equal(decision.weight, row.want.weight);
      assert.equal(decision.promote, row.want.promote);
      assert.match(decision.detail, row.want.detail);
    });
  }
});
