{{/* Names and labels shared by every template. */}}

{{- define "miroir.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name; the release name alone when it already holds the chart name (release "miroir" → "miroir"). */}}
{{- define "miroir.fullname" -}}
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

{{/* Labels of every object; each template adds its app.kubernetes.io/component (proxy, redis, meilisearch). */}}
{{- define "miroir.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "miroir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the Miroir proxy's objects. */}}
{{- define "miroir.labels" -}}
{{ include "miroir.commonLabels" . }}
app.kubernetes.io/component: proxy
{{- end }}

{{- define "miroir.selectorLabels" -}}
app.kubernetes.io/name: {{ include "miroir.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end }}

{{/* The Secret holding the three keys: secrets.existingSecret, or the one this chart makes. */}}
{{- define "miroir.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-secrets" (include "miroir.fullname" .) }}
{{- end }}
{{- end }}

{{/* config.task_store.backend, lmdb when unset (Miroir's default). */}}
{{- define "miroir.storeBackend" -}}
{{- dig "task_store" "backend" "lmdb" .Values.config }}
{{- end }}
