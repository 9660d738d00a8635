/**
 * auth — who may call Cadence and what they may do: tokens scoped to actions, services and (for
 * intake) sources, with expiry and last use; the HTTP shell asks it to authenticate a request's
 * `Authorization` header and to authorize the action a route declares. Only the SHA-256 of a
 * token's secret is stored.
 */
export {
  ACTIONS,
  INSECURE_DEV_PRINCIPAL,
  authorize,
  mayAct,
  maySendFor,
  type Action,
  type Principal,
} from './actions.js';
export { parseLifetime } from './expiry.js';
export {
  authenticate,
  countTokens,
  createToken,
  listTokens,
  revokeToken,
  type TokenSummary,
} from './tokens.js';
