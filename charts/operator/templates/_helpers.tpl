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

{{/*
The pod template's labels: no helm.sh/chart or app.kubernetes.io/version, which change with
every chart release and would restart every pod even when nothing else changed.
*/}}
{{- define "operator.podLabels" -}}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The labels of every object (the pod templates: operator.podLabels). */}}
{{- define "operator.labels" -}}
helm.sh/chart: {{ include "operator.chart" . }}
{{ include "operator.podLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* This chart's image (operator.imageRef). */}}
{{- define "operator.image" -}}
{{- include "operator.imageRef" (dict "image" .Values.image "global" .Values.global "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The pod spec's imagePullSecrets: global.imagePullSecrets and imagePullSecrets. */}}
{{- define "operator.imagePullSecrets" -}}
{{- include "operator.pullSecretsField" (dict "global" .Values.global "secrets" .Values.imagePullSecrets) }}
{{- end }}

{{/*
An image reference, the same in every shopstream chart (a copy in each: a library chart would need
`helm dependency build` for every component chart; component-charts.int.test.ts compares them):
[registry/]repository, then @digest when the image has one (the tag is then left out: the digest
alone names the image, as in Bitnami charts), else :tag (empty: appVersion).
The registry is global.imageRegistry, else image.registry; with neither, the repository as written.
(dict "image" <image values> "global" <.Values.global> "appVersion" <.Chart.AppVersion>)
*/}}
{{- define "operator.imageRef" -}}
{{- $global := .global | default dict }}
{{- $registry := $global.imageRegistry | default .image.registry | default "" | trimSuffix "/" }}
{{- $repository := .image.repository }}
{{- if and $registry (regexMatch "^([^/]*[.:][^/]*|localhost)/" $repository) }}
{{- fail (printf "image.repository %q starts with a registry host, and %q would be prepended: put the host in image.registry" $repository $registry) }}
{{- end }}
{{- $ref := ternary (printf "%s/%s" $registry $repository) $repository (ne $registry "") }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (.image.tag | default .appVersion) }}
{{- end }}
{{- end }}

{{/*
An imagePullSecrets field (or nothing): global.imagePullSecrets, then the chart's own, each a
Secret name or a {name: ...} reference, without repeats.
(dict "global" <.Values.global> "secrets" <the chart's list>)
*/}}
{{- define "operator.pullSecretsField" -}}
{{- $global := .global | default dict }}
{{- $names := list }}
{{- range concat ($global.imagePullSecrets | default list) (.secrets | default list) }}
{{- $name := . }}
{{- if kindIs "map" . }}{{ $name = .name }}{{ end }}
{{- if and $name (not (has $name $names)) }}{{ $names = append $names $name }}{{ end }}
{{- end }}
{{- if $names -}}
imagePullSecrets:
{{- range $names }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
What the operator does to pipelines and the objects they name, derived from operator/src/kube/*.ts
(tests/integration/charts/operator-rbac.int.test.ts checks every rule against the API server's
audit log of a real operator run). Namespaced rules only: granted cluster-wide by a ClusterRole,
or in watchNamespace by a Role. Nothing on Secrets or Deployments: operator.workloadRules.
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
# Not a request: the OwnerReferencesPermissionEnforcement admission plugin (OpenShift, hardened
# clusters) requires it to set an ownerReference with blockOwnerDeletion to a pipeline, as the
# KEDA ScaledObject and TriggerAuthentication of a Keda-mode relay carry.
- apiGroups: [shopstream.io]
  resources: [productpipelines/finalizers]
  verbs: [update]
# Events on condition transitions.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
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

{{/*
What the operator needs of the workloads next to a pipeline, never granted cluster-wide: a Role in
watchNamespace, or in each namespace of rbac.workloadNamespaces (every-namespace mode).
*/}}
{{- define "operator.workloadRules" -}}
# The outbox database URL named by spec.relay.databaseSecretRef; the Kafka CA, SCRAM password or
# client certificate named by spec.kafka.tls and spec.kafka.authentication.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# Relay scaling and consumers held at 0 for an offset reset: the scale subresource only (read, then
# a merge patch); the Deployment objects themselves are never read or written.
- apiGroups: [apps]
  resources: [deployments/scale]
  verbs: [get, patch]
{{- end }}
