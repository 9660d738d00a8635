{{- define "cadence.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cadence.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cadence.labels" -}}
{{ include "cadence.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cadence.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cadence.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding DATABASE_URL. */}}
{{- define "cadence.databaseSecret" -}}
{{- if eq .Values.database.type "embedded" -}}
{{- printf "%s-postgresql" (include "cadence.fullname" .) -}}
{{- else if eq .Values.database.type "external" -}}
{{- if .Values.database.external.existingSecret -}}
{{- .Values.database.external.existingSecret -}}
{{- else if .Values.database.external.url -}}
{{- printf "%s-database" (include "cadence.fullname" .) -}}
{{- else -}}
{{- fail "database.type external needs database.external.existingSecret or database.external.url" -}}
{{- end -}}
{{- else -}}
{{- fail (printf "database.type must be embedded or external, not %q" .Values.database.type) -}}
{{- end -}}
{{- end -}}

{{- define "cadence.databaseSecretKey" -}}
{{- if eq .Values.database.type "embedded" -}}url{{- else -}}{{ .Values.database.external.secretKey }}{{- end -}}
{{- end -}}

{{/* Pod Security "restricted": what every container of the chart runs with. */}}
{{- define "cadence.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ['ALL']
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Whether the mode lets Cadence deploy, and the verbs per kind it needs (see deployKinds). */}}
{{- define "cadence.validateRbac" -}}
{{- if not (has .Values.rbac.mode (list "watch" "namespaces" "cluster")) -}}
{{- fail (printf "rbac.mode must be watch, namespaces or cluster, not %q" .Values.rbac.mode) -}}
{{- end -}}
{{- if and (eq .Values.rbac.mode "namespaces") (empty .Values.rbac.namespaces) -}}
{{- fail "rbac.mode namespaces needs rbac.namespaces" -}}
{{- end -}}
{{- end -}}

{{/*
Rules: reading Deployments (the rollout watcher lists, then watches them; a reference-mode
ApiServerSource event is resolved with a get); deploying is
server-side apply, which Kubernetes authorizes as patch, and as create when the object is new;
only canary Deployments (and, with traffic steps, canary Services) are ever deleted; a live
Deployment is read (get) for its immutable selector before it is rewritten; traffic steps read
the service's Service and HTTPRoute.
*/}}
{{- define "cadence.watchRules" -}}
- apiGroups: ['apps']
  resources: ['deployments']
  verbs: ['get', 'list', 'watch']
{{- end -}}

{{- define "cadence.deployRules" -}}
{{- range .Values.rbac.deployKinds }}
- apiGroups: [{{ .apiGroup | quote }}]
  resources: [{{ .resource | quote }}]
  {{- $key := printf "%s/%s" .apiGroup .resource }}
  verbs: [{{ if has $key (list "apps/deployments" "/services" "gateway.networking.k8s.io/httproutes") }}'get', {{ end }}'create', 'patch'{{ if has $key (list "apps/deployments" "/services") }}, 'delete'{{ end }}]
{{- end }}
{{- end -}}
