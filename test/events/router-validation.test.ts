/**
 * Validate once: the router trusts the intake's schema check only for the event's own payload
 * (the CDEvents passthrough) and only when it came through a door that validates CDEvents.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredEvent } from '../../src/events/index.js';
import { intakeChecked } from '../../src/events/router.js';

const data = { context: { type: 'dev.cdevents.service.deployed.0.3.0' } };
const event = (door: string | null, type = 'dev.cdevents.service.deployed.0.3.0') =>
  ({
    type,
    data,
    door: door === null ? null : { name: door, principal: null, vouched: ['*'] },
  }) as unknown as StoredEvent;

describe('intakeChecked', () => {
  const cases: [string, StoredEvent, unknown, boolean][] = [
    ['/events passthrough', event('/events'), data, true],
    ['/cdevents passthrough', event('/cdevents'), data, true],
    ["Cadence's own events", event('internal'), data, true],
    ['a webhook door validates nothing', event('webhook:github'), data, false],
    ['stored before doors were recorded', event(null), data, false],
    ['a transformer made a new body', event('/events'), { ...data }, false],
    ['not a CDEvent type', event('/events', 'com.example.thing'), data, false],
  ];
  for (const [name, stored, body, expected] of cases) {
    it(name, () => assert.equal(intakeChecked(stored, body), expected));
  }
});
