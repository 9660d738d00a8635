/**
 * The commands the empty states show: each sends a first event to this very server, so a
 * newcomer can paste it as it is (the browser test runs the deployment one's body).
 */

/** The curl that sends a first deployment, shown while the server has none. */
export function firstDeploymentExample(origin: string): string {
  return `curl -X POST ${origin}/cdevents -H 'content-type: application/json' -d '{
  "context": {"specversion": "0.5.1", "id": "first-1", "source": "/my-pipeline",
              "type": "dev.cdevents.service.deployed.0.3.0",
              "timestamp": "${new Date().toISOString().slice(0, 19)}Z"},
  "subject": {"id": "web", "content": {"environment": {"id": "production"},
              "artifactId": "pkg:oci/web@sha256%3A0123"}}
}'`;
}

/** The curl that reports a first incident, and the Alertmanager alternative. */
export function firstIncidentExample(origin: string): string {
  return `curl -X POST ${origin}/cdevents -H 'content-type: application/json' -d '{
  "context": {"specversion": "0.5.1", "id": "incident-1", "source": "/my-alerting",
              "type": "dev.cdevents.incident.detected.0.3.0",
              "timestamp": "${new Date().toISOString().slice(0, 19)}Z"},
  "subject": {"id": "INC-1", "content": {"environment": {"id": "production"},
              "service": {"id": "web"}}}
}'
# or point Alertmanager's webhook at ${origin}/webhooks/alertmanager`;
}
