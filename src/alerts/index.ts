// Violation alerts: each block and monitored violation is POSTed as JSON (the violation log
// line's fields, never content) to the webhooks in config.alerts, asynchronously, through a
// bounded queue per target with retries and backoff. A slow or dead webhook never slows traffic:
// what does not fit is dropped and counted (dlp_proxy_alerts_total{outcome="dropped"}).
export { startViolationAlerts, type ViolationAlerts, type WebhookConfig } from './violation-alerts.js';
export { WebhookSender, backoffMs, ALERT_CHANNEL, type AlertMessage, type AlertOutcome, type WebhookStats, type WebhookTarget } from './webhook-sender.js';
