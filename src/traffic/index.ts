/**
 * traffic — canary traffic steps through a Gateway API HTTPRoute: the strategy a service
 * configures, the route's rules at a weight (pure), the Services per track, and where a
 * canary's steps are (SQL, so restarts and replicas agree). The deployer applies the objects;
 * the canary analysis's passing intervals move the steps (see src/deploy/traffic-steps.ts).
 */
export {
  trafficStrategySchema,
  durationSeconds,
  type TrafficStrategy,
  type TrafficStrategyInput,
} from './schema.js';
export {
  canaryWeight,
  trafficNames,
  weightedRules,
  type RouteRule,
  type TrafficNames,
} from './http-route.js';
export { trafficObjects, HTTP_ROUTE_API_VERSION, type ReadLive } from './traffic-objects.js';
export { nextStep, type StepDecision, type StepState } from './next-step.js';
export { readSteps, setConfirmed, setPaused, stepsFor, writeSteps } from './step-rows.js';
