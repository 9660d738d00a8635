/**
 * The hand-written CDEvents validators against the official schemas and conformance events in
 * ../shared/cdevents (read here, never copied into the repository).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  SPEC_LINES,
  supportedCdeventTypes,
  validateCdevent,
  type SpecLine,
} from '../../../src/events/cdevents/index.js';
import { conformanceEvents, sharedCdeventsDir } from '../../support/conformance.js';

type Json = Record<string, unknown>;
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  enum?: string[];
  $ref?: string;
}

const clone = <T>(value: T): T => structuredClone(value);

/** Specs directory for a line, e.g. 0.4 → 0.4.1. */
function specDir(spec: SpecLine): string {
  const dir = readdirSync(sharedCdeventsDir()).find((name) => name.startsWith(`${spec}.`));
  assert.ok(dir, `no shared schemas for spec ${spec}`);
  return join(sharedCdeventsDir(), dir);
}

function schemas(spec: SpecLine): { file: string; schema: SchemaNode }[] {
  const dir = join(specDir(spec), 'schemas');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ file, schema: JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
}

/** Every object property a schema declares (no $ref), with whether its parent requires it. */
function* properties(
  node: SchemaNode,
  path: string[] = [],
): Generator<{ path: string[]; required: boolean; node: SchemaNode }> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const at = [...path, name];
    yield { path: at, required: node.required?.includes(name) ?? false, node: child };
    if (child.properties) yield* properties(child, at);
  }
}

function getAt(value: Json, path: string[]): unknown {
  return path.reduce<unknown>((at, key) => (at as Json | undefined)?.[key], value);
}

function setAt(value: Json, path: string[], replacement: unknown): Json {
  const copy = clone(value);
  const parent = getAt(copy, path.slice(0, -1)) as Json;
  if (replacement === undefined) delete parent[path.at(-1)!];
  else parent[path.at(-1)!] = replacement;
  return copy;
}

function conformanceFor(spec: SpecLine) {
  return conformanceEvents().filter((entry) => entry.version.startsWith(`${spec}.`));
}

function expectRefused(event: unknown, field: string, label: string, message?: RegExp) {
  const result = validateCdevent(event);
  assert.equal(result.ok, false, `${label}: accepted`);
  if (result.ok) return;
  const issue = result.issues.find((i) => i.path === field);
  assert.ok(issue, `${label}: no issue at ${field}: ${JSON.stringify(result.issues)}`);
  if (message) assert.match(issue.message, message, label);
}

describe('CDEvents validation', () => {
  it('says where the conformance files must be when they are missing (not a bare error)', () => {
    const saved = process.env.CADENCE_SHARED_DIR;
    const empty = mkdtempSync(join(tmpdir(), 'cadence-no-shared-'));
    process.env.CADENCE_SHARED_DIR = empty;
    try {
      assert.throws(
        () => conformanceEvents(),
        (error: Error) => {
          assert.match(error.message, new RegExp(`no folder ${join(empty, 'cdevents')}`));
          assert.match(error.message, /<version>\/conformance\/\*\.json/);
          assert.match(error.message, /set CADENCE_SHARED_DIR/);
          return true;
        },
      );
    } finally {
      if (saved === undefined) delete process.env.CADENCE_SHARED_DIR;
      else process.env.CADENCE_SHARED_DIR = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('accepts every conformance event of every spec version', () => {
    const all = conformanceEvents();
    assert.equal(
      all.length,
      SPEC_LINES.reduce((sum, spec) => sum + supportedCdeventTypes(spec).length, 0),
    );
    for (const { version, file, event } of all) {
      const result = validateCdevent(event);
      assert.ok(result.ok, `${version}/${file}: ${JSON.stringify(!result.ok && result.issues)}`);
      assert.equal(result.value.specVersion, version);
      assert.equal(result.value.type, event.context.type);
      assert.equal(`${result.value.subjectType}_${result.value.predicate}.json`, file);
    }
  });

  for (const spec of SPEC_LINES) {
    it(`knows exactly the event types of spec ${spec}`, () => {
      const official = schemas(spec)
        .map(({ schema }) => schema.properties!.context!.properties!.type!.enum![0]!)
        .sort();
      assert.deepEqual(supportedCdeventTypes(spec), official);
    });

    it(`refuses spec ${spec} events missing any field the schema requires, naming it`, () => {
      let cases = 0;
      for (const { file, event } of conformanceFor(spec)) {
        const schema = schemas(spec).find((s) => s.file === file.replace('_', ''))!.schema;
        for (const { path, required } of properties(schema)) {
          if (!required || getAt(event, path) === undefined) continue;
          expectRefused(setAt(event, path, undefined), path.join('.'), `${file} without ${path}`);
          cases++;
        }
      }
      assert.ok(cases > 100, `only ${cases} required fields tried`);
    });

    it(`refuses spec ${spec} events with a non-string in any string field, naming it`, () => {
      for (const { file, event } of conformanceFor(spec)) {
        const schema = schemas(spec).find((s) => s.file === file.replace('_', ''))!.schema;
        for (const { path, node } of properties(schema)) {
          if (node.type !== 'string' || getAt(event, path.slice(0, -1)) === undefined) continue;
          expectRefused(
            setAt(event, path, 42),
            path.join('.'),
            `${file} ${path} = 42`,
            /string|must be|one of/,
          );
        }
      }
    });

    it(`refuses spec ${spec} events with properties the schema does not declare`, () => {
      for (const { file, event } of conformanceFor(spec)) {
        expectRefused(
          setAt(event, ['context', 'flavour'], 'x'),
          'context.flavour',
          file,
          /not a property/,
        );
        expectRefused(
          setAt(event, ['subject', 'content', 'flavour'], 'x'),
          'subject.content.flavour',
          file,
          /not a property/,
        );
      }
    });

    it(`refuses spec ${spec} events with a corrupted type or timestamp`, () => {
      for (const { file, event } of conformanceFor(spec)) {
        const type = String(event.context.type);
        for (const bad of [
          'dev.cdevents.nonsense.happened.0.1.0',
          type.replace(/\d+\.\d+\.\d+$/, '9.9.9'),
          type.replace('dev.cdevents.', 'dev.cdevent.'),
          '',
        ]) {
          expectRefused(setAt(event, ['context', 'type'], bad), 'context.type', `${file} ${bad}`);
        }
        for (const bad of ['yesterday', '2023-13-01T00:00:00Z', '2023-02-30T00:00:00Z', '']) {
          expectRefused(
            setAt(event, ['context', 'timestamp'], bad),
            'context.timestamp',
            `${file} ${bad}`,
          );
        }
      }
    });
  }

  const table: { name: string; event: unknown; field: string; message?: RegExp }[] = [
    { name: 'not an object', event: [1, 2], field: '(event)' },
    { name: 'null', event: null, field: '(event)' },
    { name: 'no context', event: { subject: {} }, field: 'context' },
    {
      name: 'an unsupported spec version',
      event: { context: { specversion: '0.2.0', type: 'dev.cdevents.service.deployed.0.1.0' } },
      field: 'context.specversion',
      message: /not supported/,
    },
    {
      name: 'spec 0.4 named with specversion',
      event: { context: { specversion: '0.4.1', type: 'dev.cdevents.service.deployed.0.2.0' } },
      field: 'context.specversion',
      message: /context\.version/,
    },
    {
      name: 'a type the spec line does not have',
      event: { context: { version: '0.3.0', type: 'dev.cdevents.ticket.created.0.1.0' } },
      field: 'context.type',
      message: /does not exist in CDEvents spec 0\.3/,
    },
  ];
  for (const { name, event, field, message } of table) {
    it(`refuses ${name}`, () => expectRefused(event, field, name, message));
  }

  it('refuses a wrong subject.type before 0.5 and an unknown test outcome', () => {
    const [deployed] = conformanceFor('0.4').filter((e) => e.file === 'service_deployed.json');
    expectRefused(
      setAt(deployed!.event, ['subject', 'type'], 'artifact'),
      'subject.type',
      'subject.type',
      /"service"/,
    );
    const [finished] = conformanceFor('0.5').filter((e) => e.file === 'testcaserun_finished.json');
    expectRefused(
      setAt(finished!.event, ['subject', 'content', 'outcome'], 'pass'),
      'subject.content.outcome',
      'outcome',
    );
  });
});
