"""Operating the service: request ids in logs and audit rows, Prometheus metrics, readiness."""
