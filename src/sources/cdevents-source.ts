import type { StoredEvent, Transformer } from '../events/index.js';

/**
 * CDEvents passthrough: a CloudEvent whose type is `dev.cdevents.*` already carries a CDEvent
 * (checked by the intake); it is stored as it is.
 */
export const cdeventsSource: Transformer = {
  name: 'cdevents',
  transform(event: StoredEvent) {
    if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) {
      return { cdevents: [], note: 'payload is not a JSON object' };
    }
    return { cdevents: [event.data as Record<string, unknown>] };
  },
};
