import {
  validateCdevent,
  wrapCdevent,
  type CloudEvent,
  deterministicId,
  EMITTED_SPEC_VERSION,
  gitRepositoryPath,
  imageToPurl,
} from '../events/index.js';
import type { Track } from './manifest-rewrite.js';

export const DEPLOYER_SOURCE = '/cadence/deployer';

const TYPES = {
  deployed: 'dev.cdevents.service.deployed.0.3.0',
  upgraded: 'dev.cdevents.service.upgraded.0.3.0',
  rolledback: 'dev.cdevents.service.rolledback.0.3.0',
} as const;

/**
 * The CDEvent of one successful operation, as a CloudEvent for the intake. Its id is made of the
 * operation's audit id, so it is never sent twice. A canary counts in its own environment
 * (`<environment>-canary`): it is not a production deployment until promoted.
 */
export function deployCdevent(fields: {
  predicate: keyof typeof TYPES;
  operationId: number;
  service: string;
  environment: string;
  track: Track;
  action: string;
  version: string;
  commit: string;
  repository: string;
  image: string | undefined;
  at: Date;
}): CloudEvent {
  const environment =
    fields.track === 'canary' ? `${fields.environment}-canary` : fields.environment;
  const body = {
    context: {
      specversion: EMITTED_SPEC_VERSION,
      id: deterministicId('deployer', fields.service, String(fields.operationId)),
      source: DEPLOYER_SOURCE,
      type: TYPES[fields.predicate],
      timestamp: fields.at.toISOString(),
    },
    subject: {
      id: fields.service,
      source: DEPLOYER_SOURCE,
      content: {
        environment: { id: environment, source: DEPLOYER_SOURCE },
        artifactId: fields.image
          ? imageToPurl(fields.image)
          : `pkg:generic/${encodeURIComponent(fields.service)}@${fields.commit}`,
      },
    },
    customData: {
      cadence: {
        revision: fields.commit,
        repository: gitRepositoryPath(fields.repository),
        outcome: 'success',
        action: fields.action,
        track: fields.track,
        version: fields.version,
      },
    },
  };
  const valid = validateCdevent(body);
  // Built here from known values: invalid would be a bug in this function.
  if (!valid.ok)
    throw new Error(`deployer made an invalid CDEvent: ${JSON.stringify(valid.issues)}`);
  return wrapCdevent(valid.value);
}
