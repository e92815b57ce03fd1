// Violation alerts: each block and monitored violation is POSTed as JSON (the violation log
// line's fields, never content) to the webhooks in config.alerts, asynchronously, through a
// bounded queue per target with retries and backoff. A slow or dead webhook never slows traffic:
// what does not fit is dropped and counted (dlp_proxy_alerts_total{outcome="dropped"}).
// E-mail (alerts.email) takes the same road to SMTP: per incident or as a digest per rule, one
// queue, retries, counted (dlp_proxy_email_alerts_total); in cluster mode from the primary only.
export { startViolationAlerts, type ViolationAlerts, type WebhookConfig } from './violation-alerts.js';
export { WebhookSender, backoffMs, ALERT_CHANNEL, type AlertMessage, type AlertOutcome, type WebhookStats, type WebhookTarget } from './webhook-sender.js';
export { incidentPageBase, logEmailFailure, mailViolations, openEmailAlerts, startEmailAlerts, type EmailAlerts, type EmailAlertsConfig, type EmailAlertsOptions, type EmailStats } from './email-alerts.js';
export { EMAIL_ALERT_CHANNEL, type EmailAlertMessage, type EmailFailure, type EmailOutcome } from './email-sender.js';
export type { EmailIncident } from './email-routes.js';
export { MailError, type MailTransport, type OutgoingMail } from './email-transport.js';
