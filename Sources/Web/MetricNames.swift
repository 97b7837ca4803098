import Prometheus

/// Metric descriptors with their help text (shown as `# HELP` on `/metrics`).
enum MetricNames {
    static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: unit, helpText: help)
    }

    static var httpRequests: MetricNameDescriptor { descriptor("sas_http_requests", unit: "total", help: "HTTP requests by listener, method, route template and status.") }
    static var httpDuration: MetricNameDescriptor { descriptor("sas_http_request_duration", unit: "seconds", help: "HTTP request latency by listener, method and route template.") }
    static var editorRequests: MetricNameDescriptor { descriptor("sas_editor_requests", unit: "total", help: "Requests to vendors by editor, flow and outcome.") }
    static var editorDuration: MetricNameDescriptor { descriptor("sas_editor_request_duration", unit: "seconds", help: "Vendor answer latency by editor and flow.") }
    static var editorTimeouts: MetricNameDescriptor { descriptor("sas_editor_timeouts", unit: "total", help: "Vendor requests that timed out.") }
    static var editorSLA: MetricNameDescriptor { descriptor("sas_editor_sla_answers", unit: "total", help: "Vendor answers by SLA bucket (under 1 s, under 7 s, over).") }
    static var editorCircuit: MetricNameDescriptor { descriptor("sas_editor_circuit", unit: "state", help: "Circuit breaker state per editor (1 for the current state).") }
    static var cache: MetricNameDescriptor { descriptor("sas_aggregator_cache", unit: "total", help: "Aggregator cache lookups by editor and result (hit, miss, shared in-flight).") }
    static var searchDuration: MetricNameDescriptor { descriptor("sas_aggregator_search_duration", unit: "seconds", help: "Aggregated search duration, by whether the deadline was reached.") }
    static var searchCPU: MetricNameDescriptor { descriptor("sas_aggregator_search_cpu", unit: "seconds", help: "Aggregator CPU time per search (planning, merging, normalising).") }
}
