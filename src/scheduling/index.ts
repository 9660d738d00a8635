/**
 * scheduling — how Cadence's background loops (the router, the projector, the analysis runner)
 * wait between passes: a nap up to a poll interval that a kick cuts short.
 */
export { createNap, type Nap, type NapEnd } from './nap.js';
