{{/* Labels every object of this chart carries. */}}
{{- define "superstore.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: superstore-pipeline
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The namespace the step pods run in. */}}
{{- define "superstore.taskNamespace" -}}
{{- required "taskNamespace.name is required" .Values.taskNamespace.name -}}
{{- end }}

{{/* Tag of the step images: image.tag, else the chart's appVersion. */}}
{{- define "superstore.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end }}

{{/* Names shared between the templates and the Airflow-side configuration. */}}
{{- define "superstore.stepConfigMap" -}}superstore-pipeline-config{{- end }}
{{- define "superstore.orchestrationConfigMap" -}}superstore-orchestration-config{{- end }}
{{- define "superstore.stepPodLabel" -}}app.kubernetes.io/part-of: superstore-pipeline{{- end }}
