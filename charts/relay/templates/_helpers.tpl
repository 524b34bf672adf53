{{/* The chart name, or nameOverride. */}}
{{- define "relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name (63 characters: a DNS label). A release already named after the chart is
not repeated ("shop-relay", not "shop-relay-relay").
*/}}
{{- define "relay.fullname" -}}
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

{{- define "relay.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The pod template's labels: no helm.sh/chart or app.kubernetes.io/version, which change with
every chart release and would restart every pod even when nothing else changed.
*/}}
{{- define "relay.podLabels" -}}
{{ include "relay.selectorLabels" . }}
app.kubernetes.io/component: relay
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The labels of every object (the pod templates: relay.podLabels). */}}
{{- define "relay.labels" -}}
helm.sh/chart: {{ include "relay.chart" . }}
{{ include "relay.podLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "relay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "relay.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* This chart's image (relay.imageRef). */}}
{{- define "relay.image" -}}
{{- include "relay.imageRef" (dict "image" .Values.image "global" .Values.global "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The pod spec's imagePullSecrets: global.imagePullSecrets and imagePullSecrets. */}}
{{- define "relay.imagePullSecrets" -}}
{{- include "relay.pullSecretsField" (dict "global" .Values.global "secrets" .Values.imagePullSecrets) }}
{{- end }}

{{/*
An image reference, the same in every shopstream chart (a copy in each: a library chart would need
`helm dependency build` for every component chart; component-charts.int.test.ts compares them):
[registry/]repository, then @digest when the image has one (the tag is then left out: the digest
alone names the image, as in Bitnami charts), else :tag (empty: appVersion).
The registry is global.imageRegistry, else image.registry; with neither, the repository as written.
(dict "image" <image values> "global" <.Values.global> "appVersion" <.Chart.AppVersion>)
*/}}
{{- define "relay.imageRef" -}}
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
{{- define "relay.pullSecretsField" -}}
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
{{- define "relay.envValue" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/* Where the Kafka CA certificate is mounted (KAFKA_SSL_CA_FILE is ca.crt in it). */}}
{{- define "relay.kafkaCaDir" -}}
/etc/shopstream/kafka-ca
{{- end }}

{{/* Non-empty when TLS is on with a CA Secret to mount. */}}
{{- define "relay.kafkaCaMounted" -}}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}true{{ end }}
{{- end }}

{{/* KAFKA_BROKERS and the SASL/TLS keys; credentials only through secretKeyRef. */}}
{{- define "relay.kafkaEnv" -}}
- name: KAFKA_BROKERS
  value: {{ .Values.kafka.brokers | quote }}
{{- with .Values.kafka.sasl }}
{{- if .enabled }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.secretName is required when kafka.sasl.enabled is true" .secretName }}
      key: {{ .usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- if .Values.kafka.tls.enabled }}
- name: KAFKA_SSL
  value: "true"
{{- if include "relay.kafkaCaMounted" . }}
- name: KAFKA_SSL_CA_FILE
  value: {{ printf "%s/ca.crt" (include "relay.kafkaCaDir" .) | quote }}
{{- end }}
{{- end }}
{{- end }}
