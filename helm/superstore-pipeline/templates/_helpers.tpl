{{/* Chart name, overridable. */}}
{{- define "superstore-pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Release-scoped base name of every object (the usual Helm convention). */}}
{{- define "superstore-pipeline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{/* Selects this release's step pods (NetworkPolicy) and labels them (pod template). */}}
{{- define "superstore-pipeline.selectorLabels" -}}
app.kubernetes.io/part-of: superstore-pipeline
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels every object of this chart carries. */}}
{{- define "superstore-pipeline.labels" -}}
app.kubernetes.io/name: {{ include "superstore-pipeline.name" . }}
{{ include "superstore-pipeline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of the step pods: Airflow, not Helm, manages them. */}}
{{- define "superstore-pipeline.podLabels" -}}
app.kubernetes.io/name: {{ include "superstore-pipeline.name" . }}
{{ include "superstore-pipeline.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: step
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Namespace of the step pods: taskNamespace.name, else the release namespace. */}}
{{- define "superstore-pipeline.taskNamespace" -}}
{{- .Values.taskNamespace.name | default .Release.Namespace -}}
{{- end }}

{{/* Tag of the step images: image.tag, else the chart's appVersion. */}}
{{- define "superstore-pipeline.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end }}

{{/* Object names; helm/airflow-values.yaml refers to the Airflow-side ones. */}}
{{- define "superstore-pipeline.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "superstore-pipeline.fullname" .) -}}
{{- end }}
{{- define "superstore-pipeline.stepConfigMap" -}}{{ include "superstore-pipeline.fullname" . }}-config{{- end }}
{{- define "superstore-pipeline.orchestrationConfigMap" -}}{{ include "superstore-pipeline.fullname" . }}-orchestration{{- end }}
{{- define "superstore-pipeline.podTemplateConfigMap" -}}{{ include "superstore-pipeline.fullname" . }}-pod-template{{- end }}
{{- define "superstore-pipeline.podLauncher" -}}{{ include "superstore-pipeline.fullname" . }}-pod-launcher{{- end }}
{{- define "superstore-pipeline.stepsPolicy" -}}{{ include "superstore-pipeline.fullname" . }}-steps{{- end }}

{{/* The OpenLineage client's settings (ConfigMap data): the steps' and Airflow's
provider's, the same on both sides. The API key is not here: it is a secretKeyRef
of the pod template. */}}
{{- define "superstore-pipeline.lineageEnv" -}}
{{- $l := .Values.lineage -}}
{{- if and $l.url $l.transport }}
{{- fail "lineage.url and lineage.transport both name a transport: set one" }}
{{- end }}
{{- if and $l.apiKeySecret.name (not $l.url) }}
{{- fail "lineage.apiKeySecret is the API key of lineage.url's HTTP backend: set lineage.url" }}
{{- end }}
{{- with $l.url }}
OPENLINEAGE_URL: {{ . | quote }}
{{- end }}
{{- with $l.endpoint }}
OPENLINEAGE_ENDPOINT: {{ . | quote }}
{{- end }}
{{- with $l.namespace }}
OPENLINEAGE_NAMESPACE: {{ . | quote }}
{{- end }}
{{- range $key, $value := $l.transport }}
OPENLINEAGE__TRANSPORT__{{ upper $key }}: {{ if kindIs "string" $value }}{{ $value | quote }}{{ else }}{{ toJson $value | quote }}{{ end }}
{{- end }}
{{- end }}

{{/* The Soda step's thresholds (QUALITY_* of superstore_soda's QualitySettings). */}}
{{- define "superstore-pipeline.qualityEnv" -}}
{{- $q := .Values.quality -}}
{{- if gt (int $q.volumeMinLoads) (int $q.volumeWindow) }}
{{- fail (printf "quality.volumeMinLoads (%v) exceeds quality.volumeWindow (%v)" $q.volumeMinLoads $q.volumeWindow) }}
{{- end }}
QUALITY_FRESHNESS_LOADED_AT_WARN_AFTER: {{ $q.freshnessLoadedAtWarnAfter | quote }}
QUALITY_FRESHNESS_LOADED_AT_FAIL_AFTER: {{ $q.freshnessLoadedAtFailAfter | quote }}
QUALITY_FRESHNESS_ORDER_DATE_WARN_AFTER: {{ $q.freshnessOrderDateWarnAfter | quote }}
QUALITY_FRESHNESS_ORDER_DATE_FAIL_AFTER: {{ $q.freshnessOrderDateFailAfter | quote }}
QUALITY_VOLUME_RATIO: {{ $q.volumeRatio | quote }}
QUALITY_VOLUME_WINDOW: {{ $q.volumeWindow | quote }}
QUALITY_VOLUME_MIN_LOADS: {{ $q.volumeMinLoads | quote }}
QUALITY_SAMPLES_LIMIT: {{ $q.samplesLimit | quote }}
{{- end }}
