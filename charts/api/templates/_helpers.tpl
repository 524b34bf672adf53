{{/* The chart name, or nameOverride. */}}
{{- define "api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name (63 characters: a DNS label). A release already named after the chart is
not repeated ("shop-api", not "shop-api-api").
*/}}
{{- define "api.fullname" -}}
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

{{- define "api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The pod template's labels: no helm.sh/chart or app.kubernetes.io/version, which change with
every chart release and would restart every pod even when nothing else changed.
*/}}
{{- define "api.podLabels" -}}
{{ include "api.selectorLabels" . }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The labels of every object (the pod templates: api.podLabels). */}}
{{- define "api.labels" -}}
helm.sh/chart: {{ include "api.chart" . }}
{{ include "api.podLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The migration pod's labels: its own name label, so neither the Service nor the PDB selects it, and
like api.podLabels no chart or app version.
*/}}
{{- define "api.migrationPodLabels" -}}
app.kubernetes.io/name: {{ include "api.name" . }}-migrations
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: migrations
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The migration Job's labels. */}}
{{- define "api.migrationLabels" -}}
helm.sh/chart: {{ include "api.chart" . }}
{{ include "api.migrationPodLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "api.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "api.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* This chart's image (api.imageRef). */}}
{{- define "api.image" -}}
{{- include "api.imageRef" (dict "image" .Values.image "global" .Values.global "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The pod spec's imagePullSecrets: global.imagePullSecrets and imagePullSecrets. */}}
{{- define "api.imagePullSecrets" -}}
{{- include "api.pullSecretsField" (dict "global" .Values.global "secrets" .Values.imagePullSecrets) }}
{{- end }}

{{/*
An image reference, the same in every shopstream chart (a copy in each: a library chart would need
`helm dependency build` for every component chart; component-charts.int.test.ts compares them):
[registry/]repository, then @digest when the image has one (the tag is then left out: the digest
alone names the image, as in Bitnami charts), else :tag (empty: appVersion).
The registry is global.imageRegistry, else image.registry; with neither, the repository as written.
(dict "image" <image values> "global" <.Values.global> "appVersion" <.Chart.AppVersion>)
*/}}
{{- define "api.imageRef" -}}
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
{{- define "api.pullSecretsField" -}}
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
An env var value from values, quoted. YAML numbers reach templates as float64, which prints a
million as 1e+06; the schema allows only integers for numeric keys, so they print as integers.
*/}}
{{- define "api.envValue" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/* DATABASE_URL and LOG_LEVEL: what both the api and the migration Job read. */}}
{{- define "api.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.secretName }}
      key: {{ .Values.database.secretKey }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}

{{/* A writable /tmp on a read-only root filesystem. */}}
{{- define "api.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
