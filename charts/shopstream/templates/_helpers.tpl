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

{{- define "shopstream.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: shopstream
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
The image of the pipeline deletion hook: the operator's (it holds delete-pipelines.js), from
pipeline.deletionHook.image, else operator.image, else the operator chart's default.
*/}}
{{- define "shopstream.deletionHookImage" -}}
{{- $hook := .Values.pipeline.deletionHook.image }}
{{- $operator := (.Values.operator.image | default dict) }}
{{- $repository := $hook.repository | default $operator.repository | default "ghcr.io/shopstream/operator" }}
{{- printf "%s:%s" $repository ($hook.tag | default $operator.tag | default .Chart.AppVersion) }}
{{- end }}
