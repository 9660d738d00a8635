import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHttpMessage, parseMediaType } from '../../src/events/http-binding.js';
import { CadenceError } from '../../src/problem/index.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const event = { specversion: '1.0', id: 'a', source: '/s', type: 't' };

function refusal(fn: () => unknown): CadenceError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CadenceError, `expected a CadenceError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the message to be refused');
}

describe('parseMediaType', () => {
  const cases: [string, string, Record<string, string>][] = [
    ['application/cloudevents+json', 'application/cloudevents+json', {}],
    [
      'Application/CloudEvents+JSON; charset=UTF-8',
      'application/cloudevents+json',
      { charset: 'UTF-8' },
    ],
    ['text/plain;charset="utf-8" ; Format=x', 'text/plain', { charset: 'utf-8', format: 'x' }],
  ];
  for (const [header, essence, params] of cases) {
    it(`parses ${header}`, () => assert.deepEqual(parseMediaType(header), { essence, params }));
  }
});

describe('decodeHttpMessage', () => {
  it('decodes structured mode, content type matched case-insensitively with parameters', () => {
    const decoded = decodeHttpMessage({
      headers: { 'content-type': 'Application/CloudEvents+Json; charset=utf-8' },
      body: json({ ...event, data: { n: 1 }, myext: 'x', count: 3 }),
    });
    assert.equal(decoded.mode, 'structured');
    assert.deepEqual(decoded.events[0]?.data, { n: 1 });
    assert.deepEqual(decoded.events[0]?.extensions, { myext: 'x', count: 3 });
  });

  it('keeps data_base64 apart from data', () => {
    const decoded = decodeHttpMessage({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, data_base64: Buffer.from([0, 1, 2]).toString('base64') }),
    });
    assert.equal(decoded.events[0]?.data_base64, 'AAEC');
    assert.equal(decoded.events[0]?.data, undefined);
  });

  it('decodes binary mode with percent-encoded header values', () => {
    const decoded = decodeHttpMessage({
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'id%20with%20space',
        'ce-source': '/caf%C3%A9',
        'ce-type': 't',
        'ce-traceparent': '00-abc',
        'content-type': 'application/json; charset=utf-8',
      },
      body: json({ ok: true }),
    });
    assert.equal(decoded.mode, 'binary');
    const [decodedEvent] = decoded.events;
    assert.equal(decodedEvent?.id, 'id with space');
    assert.equal(decodedEvent?.source, '/café');
    assert.equal(decodedEvent?.datacontenttype, 'application/json; charset=utf-8');
    assert.deepEqual(decodedEvent?.extensions, { traceparent: '00-abc' });
    assert.deepEqual(decodedEvent?.data, { ok: true });
  });

  it('keeps text as a string and other binary payloads as base64 in binary mode', () => {
    const base = { 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s', 'ce-type': 't' };
    const text = decodeHttpMessage({
      headers: { ...base, 'content-type': 'text/plain' },
      body: Buffer.from('héllo'),
    });
    assert.equal(text.events[0]?.data, 'héllo');
    const bytes = decodeHttpMessage({
      headers: { ...base, 'content-type': 'application/octet-stream' },
      body: Buffer.from([255, 0, 7]),
    });
    assert.equal(bytes.events[0]?.data_base64, Buffer.from([255, 0, 7]).toString('base64'));
    const empty = decodeHttpMessage({ headers: base, body: Buffer.alloc(0) });
    assert.equal(empty.events[0]?.data, undefined);
  });

  it('decodes a batch', () => {
    const decoded = decodeHttpMessage({
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: json([event, { ...event, id: 'b' }]),
    });
    assert.equal(decoded.mode, 'batch');
    assert.deepEqual(
      decoded.events.map((e) => e.id),
      ['a', 'b'],
    );
  });

  const refusals: {
    name: string;
    headers: Record<string, string>;
    body: Buffer;
    code: string;
    field: string;
  }[] = [
    {
      name: 'malformed JSON',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: Buffer.from('{"id":'),
      code: 'invalid-input',
      field: 'body',
    },
    {
      name: 'a JSON array in structured mode',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json([event]),
      code: 'invalid-input',
      field: 'body',
    },
    {
      name: 'missing id',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, id: undefined }),
      code: 'invalid-input',
      field: 'id',
    },
    {
      name: 'empty source',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, source: '' }),
      code: 'invalid-input',
      field: 'source',
    },
    {
      name: 'wrong specversion',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, specversion: '0.3' }),
      code: 'invalid-input',
      field: 'specversion',
    },
    {
      name: 'numeric type',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, type: 5 }),
      code: 'invalid-input',
      field: 'type',
    },
    {
      name: 'bad time',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, time: '2026-02-30T00:00:00Z' }),
      code: 'invalid-input',
      field: 'time',
    },
    {
      name: 'relative dataschema',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, dataschema: 'schema.json' }),
      code: 'invalid-input',
      field: 'dataschema',
    },
    {
      name: 'upper-case extension name',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, MyExt: 'x' }),
      code: 'invalid-input',
      field: 'MyExt',
    },
    {
      name: 'object extension value',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, ext: { a: 1 } }),
      code: 'invalid-input',
      field: 'ext',
    },
    {
      name: 'data and data_base64 together',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: json({ ...event, data: 1, data_base64: 'AA==' }),
      code: 'invalid-input',
      field: 'data_base64',
    },
    {
      name: 'a batch that is not an array',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: json(event),
      code: 'invalid-input',
      field: 'body',
    },
    {
      name: 'an invalid item in a batch',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: json([event, { ...event, id: '' }]),
      code: 'invalid-input',
      field: '[1].id',
    },
    {
      name: 'an unknown event format',
      headers: { 'content-type': 'application/cloudevents+xml' },
      body: Buffer.from('<x/>'),
      code: 'unsupported-media-type',
      field: 'content-type',
    },
    {
      name: 'a media type that is no CloudEvent',
      headers: { 'content-type': 'image/png' },
      body: Buffer.from('x'),
      code: 'unsupported-media-type',
      field: 'content-type',
    },
    {
      name: 'plain JSON without ce- headers',
      headers: { 'content-type': 'application/json' },
      body: json(event),
      code: 'invalid-input',
      field: 'ce-specversion',
    },
    {
      name: 'binary mode missing ce-type',
      headers: { 'ce-specversion': '1.0', 'ce-id': 'a', 'ce-source': '/s' },
      body: Buffer.alloc(0),
      code: 'invalid-input',
      field: 'ce-type',
    },
    {
      name: 'a bad percent-encoding',
      headers: { 'ce-specversion': '1.0', 'ce-id': '%E0%A4%A', 'ce-source': '/s', 'ce-type': 't' },
      body: Buffer.alloc(0),
      code: 'invalid-input',
      field: 'ce-id',
    },
    {
      name: 'binary mode with malformed JSON data',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'a',
        'ce-source': '/s',
        'ce-type': 't',
        'content-type': 'application/json',
      },
      body: Buffer.from('{'),
      code: 'invalid-input',
      field: 'data',
    },
  ];
  for (const { name, headers, body, code, field } of refusals) {
    it(`refuses ${name}, naming ${field}`, () => {
      const error = refusal(() => decodeHttpMessage({ headers, body }));
      assert.equal(error.code, code);
      assert.equal(error.field, field);
    });
  }
});
