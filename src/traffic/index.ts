/**
 * traffic — canary traffic steps through a Gateway API HTTPRoute: the strategy a service
 * configures, the route's rules at a weight (pure), the Services per track, and where a
 * canary's steps are (SQL, so restarts and replicas agree). The deployer applies the objects;
 * the canary analysis's passing intervals move the steps (see src/deploy/traffic-steps.ts).
 */
export { trafficStrategySchema, type TrafficStrategy } from './schema.js';
export { trafficObjects, type ReadLive } from './traffic-objects.js';
export { nextStep, type StepState } from './next-step.js';
export { readSteps, setConfirmed, setPaused, stepsFor, writeSteps } from './step-rows.js';
