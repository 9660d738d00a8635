/**
 * The discovery file's credential: the exact secret, as Bearer, from a loopback address or from
 * the server's own address (a server bound to one non-loopback address, reached by a CLI on the
 * same machine), never from another.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLocalCredential } from '../../src/server/authorization.js';

const credential = 'cadence-local:s3cret';

describe('isLocalCredential', () => {
  const cases: [string, string | undefined, string | undefined, string | undefined, boolean][] = [
    [
      'from the address it reached (bound to 10.0.0.1)',
      `Bearer ${credential}`,
      'self',
      credential,
      true,
    ],
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
    // The server is reached on 10.0.0.1 here; 'self' is a connection from that same address.
    const socket =
      address === 'self'
        ? { remoteAddress: '10.0.0.1', localAddress: '10.0.0.1' }
        : { remoteAddress: address, localAddress: '10.0.0.1' };
    it(name, () => assert.equal(isLocalCredential(header, socket, expected), result));
  }
});
