{{/*
The component this release runs: the value `component`, else the chart's name, which Helm sets to
the alias of an aliased dependency (the umbrella's api, relay and consumer).
*/}}
{{- define "workload.component" -}}
{{- $component := .Values.component | default .Chart.Name }}
{{- if not (has $component (list "api" "relay" "consumer")) }}
{{- if .Values.component }}
{{- fail (printf "component %q is none of api, relay, consumer" .Values.component) }}
{{- end }}
{{- fail (printf "component is empty and the chart is named %q, not api, relay or consumer: set component (or use the chart as a dependency aliased api, relay or consumer)" .Chart.Name) }}
{{- end }}
{{- $component }}
{{- end }}

{{/*
What the components do differently, each the default of a value (or fixed by the process):
the port the process serves (its env var and port name), replicas, who owns the replica count,
the migration hook Job and the Kafka bootstrap servers.
*/}}
{{- define "workload.componentDefaults" -}}
api:
  port: 8080
  portEnv: PORT
  portName: http
  replicaCount: 2
  managedByPipeline: false
  migrations: true
  # KAFKA_BROKERS is optional for the api: only its admin page reads Kafka.
  kafkaBrokers: ''
relay:
  port: 9464
  portEnv: METRICS_PORT
  portName: metrics
  replicaCount: 1
  managedByPipeline: true
  migrations: false
  kafkaBrokers: shop-kafka-kafka-bootstrap.kafka:9092
consumer:
  port: 9465
  portEnv: METRICS_PORT
  portName: metrics
  replicaCount: 2
  managedByPipeline: false
  migrations: false
  kafkaBrokers: shop-kafka-kafka-bootstrap.kafka:9092
{{- end }}

{{/* One entry of workload.componentDefaults for this release's component: (list $ "port"). */}}
{{- define "workload.default" -}}
{{- $root := index . 0 }}
{{- index (include "workload.componentDefaults" $root | fromYaml) (include "workload.component" $root) (index . 1) }}
{{- end }}

{{/*
A value, or the component's default when the value is unset (null or absent): false and 0 are
values. (list $ <value> "<default key>")
*/}}
{{- define "workload.valueOr" -}}
{{- $value := index . 1 }}
{{- if kindIs "invalid" $value }}
{{- include "workload.default" (list (index . 0) (index . 2)) }}
{{- else }}
{{- $value }}
{{- end }}
{{- end }}

{{- define "workload.port" -}}
{{- include "workload.valueOr" (list . .Values.service.port "port") | int }}
{{- end }}

{{- define "workload.portName" -}}
{{- include "workload.default" (list . "portName") }}
{{- end }}

{{- define "workload.replicaCount" -}}
{{- include "workload.valueOr" (list . .Values.replicaCount "replicaCount") | int }}
{{- end }}

{{/* "true" when the ProductPipeline owns the replica count (no spec.replicas). */}}
{{- define "workload.managedByPipeline" -}}
{{- include "workload.valueOr" (list . (dig "managedByPipeline" nil (.Values.scaling | default dict)) "managedByPipeline") }}
{{- end }}

{{/* "true" when the migration hook Job is rendered. */}}
{{- define "workload.migrationsEnabled" -}}
{{- include "workload.valueOr" (list . .Values.migrations.enabled "migrations") }}
{{- end }}

{{- define "workload.kafkaBrokers" -}}
{{- include "workload.valueOr" (list . .Values.kafka.brokers "kafkaBrokers") }}
{{- end }}

{{/* The component's name, or nameOverride. */}}
{{- define "workload.name" -}}
{{- default (include "workload.component" .) .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name (63 characters: a DNS label). A release already named after the component
is not repeated ("shop-api", not "shop-api-api").
*/}}
{{- define "workload.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default (include "workload.component" .) .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The chart (its alias under the umbrella) and version. */}}
{{- define "workload.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "workload.selectorLabels" -}}
app.kubernetes.io/name: {{ include "workload.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The pod template's labels: no helm.sh/chart or app.kubernetes.io/version, which change with
every chart release and would restart every pod even when nothing else changed.
*/}}
{{- define "workload.podLabels" -}}
{{ include "workload.selectorLabels" . }}
app.kubernetes.io/component: {{ include "workload.component" . }}
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The labels of every object (the pod templates: workload.podLabels). */}}
{{- define "workload.labels" -}}
helm.sh/chart: {{ include "workload.chart" . }}
{{ include "workload.podLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The migration pod's labels: its own name label, so neither the Service nor the PDB selects it, and
like workload.podLabels no chart or app version.
*/}}
{{- define "workload.migrationPodLabels" -}}
app.kubernetes.io/name: {{ include "workload.name" . }}-migrations
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: migrations
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The migration Job's labels. */}}
{{- define "workload.migrationLabels" -}}
helm.sh/chart: {{ include "workload.chart" . }}
{{ include "workload.migrationPodLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "workload.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "workload.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* This release's image (workload.imageRef); the repository defaults to shopstream/<component>. */}}
{{- define "workload.image" -}}
{{- $repository := .Values.image.repository | default (printf "shopstream/%s" (include "workload.component" .)) }}
{{- $image := merge (dict "repository" $repository) .Values.image }}
{{- include "workload.imageRef" (dict "image" $image "global" .Values.global "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The pod spec's imagePullSecrets: global.imagePullSecrets and imagePullSecrets. */}}
{{- define "workload.imagePullSecrets" -}}
{{- include "workload.pullSecretsField" (dict "global" .Values.global "secrets" .Values.imagePullSecrets) }}
{{- end }}

{{/*
An image reference, the same in every shopstream chart (a copy in each of the workload, operator
and umbrella charts: a library chart would need `helm dependency build` for every one of them;
component-charts.int.test.ts compares them):
[registry/]repository, then @digest when the image has one (the tag is then left out: the digest
alone names the image, as in Bitnami charts), else :tag (empty: appVersion).
The registry is global.imageRegistry, else image.registry; with neither, the repository as written.
(dict "image" <image values> "global" <.Values.global> "appVersion" <.Chart.AppVersion>)
*/}}
{{- define "workload.imageRef" -}}
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
{{- define "workload.pullSecretsField" -}}
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
{{- define "workload.envValue" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- int64 . | toString | quote }}
{{- else }}
{{- toString . | quote }}
{{- end }}
{{- end }}

{{/* DATABASE_URL and LOG_LEVEL: what both the workload and the migration Job read. */}}
{{- define "workload.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.secretName }}
      key: {{ .Values.database.secretKey }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}

{{/* The api's seller-token and admin-page env: JWT_* and ADMIN_TOKEN, secrets by secretKeyRef. */}}
{{- define "workload.authEnv" -}}
{{- with .Values.auth.issuer }}
- name: JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
{{- with .Values.auth.audience }}
- name: JWT_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- if .Values.auth.jwksUrl }}
- name: JWT_JWKS_URL
  value: {{ .Values.auth.jwksUrl | quote }}
{{- else }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.jwtSecret.secretName }}
      key: {{ .Values.auth.jwtSecret.secretKey }}
{{- end }}
{{- with .Values.auth.adminToken }}
{{- if .secretName }}
- name: ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .secretKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* Where the Kafka CA certificate is mounted (KAFKA_SSL_CA_FILE is ca.crt in it). */}}
{{- define "workload.kafkaCaDir" -}}
/etc/shopstream/kafka-ca
{{- end }}

{{/* Where the KafkaUser's client certificate and key are mounted (user.crt, user.key). */}}
{{- define "workload.kafkaUserDir" -}}
/etc/shopstream/kafka-user
{{- end }}

{{/* Non-empty when TLS is on with a CA Secret to mount. */}}
{{- define "workload.kafkaCaMounted" -}}
{{- if and (include "workload.kafkaBrokers" .) .Values.kafka.tls.enabled .Values.kafka.tls.caSecret.name }}true{{ end }}
{{- end }}

{{/* Non-empty when the KafkaUser's certificate is mounted (mTLS). */}}
{{- define "workload.kafkaUserMounted" -}}
{{- if and (include "workload.kafkaBrokers" .) (eq .Values.kafka.authentication.type "tls") }}true{{ end }}
{{- end }}

{{/*
KAFKA_BROKERS and the TLS and SASL keys, nothing without brokers (the api's Kafka is optional);
the password only through secretKeyRef, the CA and the client certificate as mounted files. The
schema has checked that each authentication type names what it needs.
*/}}
{{- define "workload.kafkaEnv" -}}
{{- $brokers := include "workload.kafkaBrokers" . }}
{{- $kafka := .Values.kafka }}
{{- if not $brokers }}
{{- if or $kafka.tls.enabled $kafka.authentication.type }}
{{- fail (printf "kafka.tls or kafka.authentication is set, but kafka.brokers is not: set the brokers the %s connects to" (include "workload.component" .)) }}
{{- end }}
{{- else }}
- name: KAFKA_BROKERS
  value: {{ $brokers | quote }}
{{- if eq $kafka.authentication.type "scram-sha-512" }}
- name: KAFKA_SASL_MECHANISM
  value: scram-sha-512
- name: KAFKA_SASL_USERNAME
  value: {{ $kafka.authentication.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.authentication.passwordSecret.name }}
      key: {{ $kafka.authentication.passwordSecret.key }}
{{- end }}
{{- if $kafka.tls.enabled }}
- name: KAFKA_SSL
  value: "true"
{{- if include "workload.kafkaCaMounted" . }}
- name: KAFKA_SSL_CA_FILE
  value: {{ printf "%s/ca.crt" (include "workload.kafkaCaDir" .) | quote }}
{{- end }}
{{- end }}
{{- if include "workload.kafkaUserMounted" . }}
- name: KAFKA_SSL_CERT_FILE
  value: {{ printf "%s/user.crt" (include "workload.kafkaUserDir" .) | quote }}
- name: KAFKA_SSL_KEY_FILE
  value: {{ printf "%s/user.key" (include "workload.kafkaUserDir" .) | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* A writable /tmp on a read-only root filesystem. */}}
{{- define "workload.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* The workload pod's volumes: /tmp and the Kafka Secrets. */}}
{{- define "workload.volumes" -}}
{{ include "workload.tmpVolume" . }}
{{- if include "workload.kafkaCaMounted" . }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key }}
        path: ca.crt
{{- end }}
{{- if include "workload.kafkaUserMounted" . }}
- name: kafka-user
  secret:
    secretName: {{ .Values.kafka.authentication.certificateSecret.name }}
    items:
      - key: user.crt
        path: user.crt
      - key: user.key
        path: user.key
{{- end }}
{{- end }}

{{/* The container's mounts of workload.volumes, the Secrets read-only. */}}
{{- define "workload.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "workload.kafkaCaMounted" . }}
- name: kafka-ca
  mountPath: {{ include "workload.kafkaCaDir" . }}
  readOnly: true
{{- end }}
{{- if include "workload.kafkaUserMounted" . }}
- name: kafka-user
  mountPath: {{ include "workload.kafkaUserDir" . }}
  readOnly: true
{{- end }}
{{- end }}
