import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createTrafficSteps, type Deployer } from '../../deploy/index.js';
import { CadenceError } from '../../problem/index.js';
import type { Store } from '../../store/index.js';

const serviceParams = z.strictObject({ name: z.string().min(1).max(63) });

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
    const result = serviceParams.safeParse(request.params);
    if (!result.success) {
      throw new CadenceError('invalid-input', {
        field: 'name',
        detail: 'the service name is missing or too long',
      });
    }
    // An unknown service is a 404 naming `service` (the deployer's own check).
    deps.deployer.settingsOf(result.data.name);
    return result.data.name;
  };
  app.get(
    '/api/v1/services/:name/steps',
    { config: { auth: { action: 'read', always: true, serviceParam: 'name' } } },
    (request) => steps.report(service(request)),
  );
  const actions = [
    ['pause', 'canary'],
    ['resume', 'canary'],
    ['confirm', 'promote'],
  ] as const;
  for (const [verb, action] of actions) {
    app.route({
      method: ['POST', 'PUT'],
      url: `/api/v1/services/:name/${verb}`,
      config: { auth: { action, serviceParam: 'name' } },
      handler: (request) => steps[verb](service(request), request.principal!.name),
    });
  }
}
