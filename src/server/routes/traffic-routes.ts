import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createTrafficSteps, type Deployer } from '../../deploy/index.js';
import type { Store } from '../../store/index.js';
import { trafficStepsSchema } from '../api-schemas.js';
import { forbidden, problem, unauthorized } from '../openapi.js';
import { noService, serviceName, serviceParams } from './deploy-routes.js';

/**
 * A canary's traffic steps: read them, pause and resume them (a `canary` token), confirm the
 * promotion after the last step (a `promote` token). The steps themselves move with the canary
 * analysis's passing intervals.
 */
export function registerTrafficRoutes(
  app: FastifyInstance,
  deps: { deployer: Deployer; store: Store },
): void {
  const steps = createTrafficSteps(deps);
  const service = (request: FastifyRequest) => {
    const name = serviceName(request);
    // An unknown service is a 404 naming `service` (the deployer's own check).
    deps.deployer.settingsOf(name);
    return name;
  };
  app.get(
    '/api/v1/services/:name/steps',
    {
      config: {
        auth: { action: 'read', always: true, serviceParam: 'name' },
        api: {
          tag: 'deployer',
          summary: "The canary's traffic steps: step, weight, pause and confirmation",
          params: serviceParams,
          responses: {
            200: { description: 'the answer', schema: trafficStepsSchema },
            401: unauthorized,
            403: forbidden,
            404: noService,
          },
        },
      },
    },
    (request) => steps.report(service(request)),
  );
  const actions = [
    ['pause', 'canary', 'Hold the canary at its traffic step (the analysis keeps judging)'],
    ['resume', 'canary', 'Let the canary move through its traffic steps again'],
    ['confirm', 'promote', 'Allow the promotion after the last step (strategy.confirmPromotion)'],
  ] as const;
  for (const [verb, action, summary] of actions) {
    app.route({
      method: ['POST', 'PUT'],
      url: `/api/v1/services/:name/${verb}`,
      config: {
        auth: { action, serviceParam: 'name' },
        api: {
          tag: 'deployer',
          summary,
          params: serviceParams,
          responses: {
            200: { description: 'the steps now', schema: trafficStepsSchema },
            401: unauthorized,
            403: forbidden,
            404: noService,
            409: problem('the service has no traffic steps (field strategy) or no canary'),
          },
        },
      },
      handler: (request) => steps[verb](service(request), request.principal!.name),
    });
  }
}
