/**
 * sources — one transformer per event producer, each turning that producer's raw CloudEvents
 * into CDEvents. The router (in `events`) runs them as the routing table says; this module
 * only knows producers' payload shapes.
 */
import type { Transformer } from '../events/index.js';
import type { WebhookReceiver } from './webhook-receiver.js';
import {
  alertmanagerSettingsSchema,
  createAlertmanagerReceiver,
  createAlertmanagerSource,
  type AlertmanagerSettings,
} from './alertmanager-source.js';
import {
  argocdSettingsSchema,
  createArgocdReceiver,
  createArgocdSource,
  type ArgocdSettings,
} from './argocd-source.js';
import { cdeventsSource } from './cdevents-source.js';
import {
  createGithubReceiver,
  createGithubSource,
  githubSettingsSchema,
  type GithubSettings,
} from './github-source.js';
import {
  createGitlabReceiver,
  createGitlabSource,
  gitlabSettingsSchema,
  type GitlabSettings,
} from './gitlab-source.js';
import {
  createKubernetesApiserverSource,
  type DeploymentLookup,
} from './kubernetes-apiserver-source.js';
import { createTektonSource, tektonSettingsSchema, type TektonSettings } from './tekton-source.js';
export { kubeDeploymentLookup } from './kubernetes-apiserver-source.js';
export { githubSettingsSchema } from './github-source.js';
export { gitlabSettingsSchema } from './gitlab-source.js';
export { tektonSettingsSchema } from './tekton-source.js';
export { alertmanagerSettingsSchema } from './alertmanager-source.js';
export { argocdSettingsSchema } from './argocd-source.js';

/** Per-source settings from the config (`sources:`); a source left out runs with its defaults. */
export interface SourceSettings {
  github?: GithubSettings;
  gitlab?: GitlabSettings;
  tekton?: TektonSettings;
  alertmanager?: AlertmanagerSettings;
  argocd?: ArgocdSettings;
}

/** Every built-in transformer by name: the names the routing table may use. */
export function builtinTransformers(
  options: { deploymentLookup?: DeploymentLookup; settings?: SourceSettings } = {},
): Map<string, Transformer> {
  const all: Transformer[] = [
    cdeventsSource,
    createKubernetesApiserverSource(
      options.deploymentLookup ? { lookup: options.deploymentLookup } : {},
    ),
    createGithubSource(options.settings?.github ?? githubSettingsSchema.parse({})),
    createGitlabSource(options.settings?.gitlab ?? gitlabSettingsSchema.parse({})),
    createTektonSource(options.settings?.tekton ?? tektonSettingsSchema.parse({})),
    createAlertmanagerSource(
      options.settings?.alertmanager ?? alertmanagerSettingsSchema.parse({}),
    ),
    createArgocdSource(options.settings?.argocd ?? argocdSettingsSchema.parse({})),
  ];
  return new Map(all.map((transformer) => [transformer.name, transformer]));
}

export { securedSources, type WebhookReceiver } from './webhook-receiver.js';

/** Every built-in webhook receiver by name: the `{source}` of `POST /webhooks/{source}`. */
export function builtinWebhookReceivers(
  settings: SourceSettings = {},
): Map<string, WebhookReceiver> {
  const all: WebhookReceiver[] = [
    createGithubReceiver(settings.github ?? githubSettingsSchema.parse({})),
    createGitlabReceiver(settings.gitlab ?? gitlabSettingsSchema.parse({})),
    createAlertmanagerReceiver(settings.alertmanager ?? alertmanagerSettingsSchema.parse({})),
    createArgocdReceiver(settings.argocd ?? argocdSettingsSchema.parse({})),
  ];
  return new Map(all.map((receiver) => [receiver.name, receiver]));
}

/** The `{source}` names `POST /webhooks/{source}` knows: what the API document lists. */
export function webhookSourceNames(): [string, ...string[]] {
  const [first, ...rest] = builtinWebhookReceivers().keys();
  return [first!, ...rest];
}
