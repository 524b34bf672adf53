{{/* The release's full name (a DNS label), not repeating a release already named "shopstream". */}}
{{- define "shopstream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The labels of this chart's pod templates: no helm.sh/chart or app.kubernetes.io/version, which
change with every chart release and would replace pods even when nothing else changed.
*/}}
{{- define "shopstream.podLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: shopstream
{{- end }}

{{/* The labels of every object (pod templates: shopstream.podLabels). */}}
{{- define "shopstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "shopstream.podLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The full name a component chart gives its objects (its Deployment among them), computed the way
every component's "<name>.fullname" helper does, from the overrides set here under its section:
(dict "root" $ "component" "relay").
*/}}
{{- define "shopstream.componentFullname" -}}
{{- $root := .root }}
{{- $values := index $root.Values .component | default dict }}
{{- if $values.fullnameOverride }}
{{- $values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .component $values.nameOverride }}
{{- if contains $name $root.Release.Name }}
{{- $root.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $root.Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Strimzi Kafka cluster the pipeline uses: its own, or clusterRef. */}}
{{- define "shopstream.kafkaClusterName" -}}
{{- .Values.pipeline.kafka.clusterRef.name | default .Values.strimzi.kafka.name }}
{{- end }}

{{/*
Without a namespace: this release's when it renders the cluster, else "kafka", where the
components' default kafka.brokers (shop-kafka-kafka-bootstrap.kafka:9092) look for it.
*/}}
{{- define "shopstream.kafkaClusterNamespace" -}}
{{- .Values.pipeline.kafka.clusterRef.namespace | default (ternary .Release.Namespace "kafka" .Values.strimzi.kafka.enabled) }}
{{- end }}

{{- define "shopstream.bootstrapServers" -}}
{{- if .Values.pipeline.kafka.bootstrapServers }}
{{- .Values.pipeline.kafka.bootstrapServers }}
{{- else }}
{{- printf "%s-kafka-bootstrap.%s:%d" (include "shopstream.kafkaClusterName" .) (include "shopstream.kafkaClusterNamespace" .) (int .Values.strimzi.kafka.listenerPort) }}
{{- end }}
{{- end }}

{{/* Components this release installs, for the PodMonitor's selector. */}}
{{- define "shopstream.enabledComponents" -}}
{{- $enabled := list }}
{{- range $c := list "api" "relay" "consumer" "operator" }}
{{- if (index $.Values $c).enabled }}{{ $enabled = append $enabled $c }}{{ end }}
{{- end }}
{{- toJson $enabled }}
{{- end }}

{{/*
The image of the pipeline deletion hook: the operator's (it holds delete-pipelines.js). Each of
registry, repository, tag and digest is pipeline.deletionHook.image's when set, else operator.image's
(else the operator chart's default, when the operator is not part of this release). A hook
repository or tag of its own drops the operator's digest: that digest names the operator image.
global.imageRegistry replaces either registry, as for every component.
*/}}
{{- define "shopstream.deletionHookImage" -}}
{{- $hook := .Values.pipeline.deletionHook.image }}
{{- $operator := .Values.operator.image | default dict }}
{{- $image := dict }}
{{- range $key, $default := dict "registry" "ghcr.io" "repository" "shopstream/operator" "tag" "" "digest" "" }}
{{- $_ := set $image $key (ternary (index $operator $key) $default (hasKey $operator $key)) }}
{{- end }}
{{- if or $hook.repository $hook.tag }}{{ $_ := set $image "digest" "" }}{{ end }}
{{- range $key := list "registry" "repository" "tag" "digest" }}
{{- with index $hook $key }}{{ $_ := set $image $key . }}{{ end }}
{{- end }}
{{- include "shopstream.imageRef" (dict "image" $image "global" .Values.global "appVersion" .Chart.AppVersion) }}
{{- end }}

{{/* The hook pod's imagePullSecrets: global.imagePullSecrets and operator.imagePullSecrets. */}}
{{- define "shopstream.deletionHookPullSecrets" -}}
{{- include "shopstream.pullSecretsField" (dict "global" .Values.global "secrets" .Values.operator.imagePullSecrets) }}
{{- end }}

{{/*
An image reference, the same in every shopstream chart (a copy in each: a library chart would need
`helm dependency build` for every component chart; component-charts.int.test.ts compares them):
[registry/]repository, then @digest when the image has one (the tag is then left out: the digest
alone names the image, as in Bitnami charts), else :tag (empty: appVersion).
The registry is global.imageRegistry, else image.registry; with neither, the repository as written.
(dict "image" <image values> "global" <.Values.global> "appVersion" <.Chart.AppVersion>)
*/}}
{{- define "shopstream.imageRef" -}}
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
{{- define "shopstream.pullSecretsField" -}}
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
