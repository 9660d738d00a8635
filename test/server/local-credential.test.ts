/** The discovery file's credential: the exact secret, as Bearer, from a loopback address only. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLocalCredential } from '../../src/server/authorization.js';

const credential = 'cadence-local:s3cret';

describe('isLocalCredential', () => {
  const cases: [string, string | undefined, string | undefined, string | undefined, boolean][] = [
    ['the credential from 127.0.0.1', `Bearer ${credential}`, '127.0.0.1', credential, true],
    ['from ::1', `bearer ${credential}`, '::1', credential, true],
    ['from IPv4-mapped loopback', `Bearer ${credential}`, '::ffff:127.0.0.1', credential, true],
    ['from another address', `Bearer ${credential}`, '10.0.0.5', credential, false],
    ['a wrong secret', 'Bearer cadence-local:other', '127.0.0.1', credential, false],
    ['a longer secret', `Bearer ${credential}x`, '127.0.0.1', credential, false],
    [
      'as Basic',
      `Basic ${Buffer.from(credential).toString('base64')}`,
      '127.0.0.1',
      credential,
      false,
    ],
    ['no header', undefined, '127.0.0.1', credential, false],
    ['a server without one (PostgreSQL)', `Bearer ${credential}`, '127.0.0.1', undefined, false],
    ['no address', `Bearer ${credential}`, undefined, credential, false],
  ];
  for (const [name, header, address, expected, result] of cases) {
    it(name, () => assert.equal(isLocalCredential(header, address, expected), result));
  }
});
