/**
 * sources — one transformer per event producer, each turning that producer's raw CloudEvents
 * into CDEvents. The router (in `events`) runs them as the routing table says; this module
 * only knows producers' payload shapes.
 */
import type { Transformer } from '../events/index.js';
import type { WebhookReceiver } from './webhook-receiver.js';
import { cdeventsSource } from './cdevents-source.js';
import {
  createKubernetesApiserverSource,
  type DeploymentLookup,
} from './kubernetes-apiserver-source.js';

export { cdeventsSource } from './cdevents-source.js';
export {
  createKubernetesApiserverSource,
  deploymentToCdevent,
  rolloutState,
  type DeploymentLookup,
  type DeploymentObject,
} from './kubernetes-apiserver-source.js';
export { deterministicId, imageToPurl, EMITTED_SPEC_VERSION } from './cdevent-id.js';

/** Every built-in transformer by name: the names the routing table may use. */
export function builtinTransformers(
  options: { deploymentLookup?: DeploymentLookup } = {},
): Map<string, Transformer> {
  const all: Transformer[] = [
    cdeventsSource,
    createKubernetesApiserverSource(
      options.deploymentLookup ? { lookup: options.deploymentLookup } : {},
    ),
  ];
  return new Map(all.map((transformer) => [transformer.name, transformer]));
}

export {
  headerValue,
  sameSecret,
  webhookCloudEvent,
  bodyDigestId,
  refuseUnauthenticated,
  type WebhookReceiver,
} from './webhook-receiver.js';

/** Every built-in webhook receiver by name: the `{source}` of `POST /webhooks/{source}`. */
export function builtinWebhookReceivers(): Map<string, WebhookReceiver> {
  const all: WebhookReceiver[] = [];
  return new Map(all.map((receiver) => [receiver.name, receiver]));
}
