{{/* The chart name, or nameOverride. */}}
{{- define "operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name (63 characters: a DNS label). A release already named after the chart is
not repeated ("shop-operator", not "shop-operator-operator").
*/}}
{{- define "operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "operator.labels" -}}
helm.sh/chart: {{ include "operator.chart" . }}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: shopstream
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
What the operator does to pipelines and the objects they name, derived from operator/src/kube/*.ts
(tests/integration/charts/operator-rbac.int.test.ts checks every rule against the API server's
audit log of a real operator run). Namespaced rules only: granted cluster-wide by a ClusterRole,
or in watchNamespace by a Role.
*/}}
{{- define "operator.pipelineRules" -}}
# Informer (list, watch), reconcile re-read (get), finalizer (merge patch).
- apiGroups: [shopstream.io]
  resources: [productpipelines]
  verbs: [get, list, watch, patch]
# One merge patch of /status per reconcile.
- apiGroups: [shopstream.io]
  resources: [productpipelines/status]
  verbs: [patch]
# Events on condition transitions.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# The outbox database URL named by spec.relay.databaseSecretRef.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# Replicas read from the Deployment, offset-reset bookkeeping in its annotations.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, patch]
# Relay scaling and consumers to 0 and back: a merge patch of the scale subresource (never read).
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [patch]
# Strimzi topic management: server-side apply (a PATCH; the API server also checks create when the
# apply creates the object). The finalizer lists the pipeline's KafkaTopics by label, deletes the
# Delete-policy ones and patches any ownerReference to the pipeline off the others.
- apiGroups: [kafka.strimzi.io]
  resources: [kafkatopics]
  verbs: [create, patch, delete, list]
# Keda scaling mode: server-side apply as above, and delete when the mode changes away from Keda.
- apiGroups: [keda.sh]
  resources: [scaledobjects, triggerauthentications]
  verbs: [create, patch, delete]
# An offset reset pauses a consumer's ScaledObject (an annotation, patched as above) rather than
# fighting KEDA over replicas: list finds the one whose scaleTargetRef is the consumer Deployment.
- apiGroups: [keda.sh]
  resources: [scaledobjects]
  verbs: [list]
{{- end }}
