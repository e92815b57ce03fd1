// The admin listener, kept apart from the proxy port: Prometheus /metrics, /healthz, /readyz
// (proxy listening, every ICAP service's OPTIONS fresh or its fail mode open), the CA certificate
// as /ca.pem and /ca.der, /proxy.pac generated from config, and an onboarding page at / with the
// CA fingerprint and per-platform install steps. Off loopback, proxy.allowedClients applies. In
// cluster mode the primary runs it once and /readyz asks every worker (checkClusterReadiness).
// Incident reports (list, incident, summary, CSV/JSON export, JSON API) behind admin sign-in.
export { AdminServer, type AdminServerOptions } from './admin-server.js';
export { checkReadiness, checkServicesReadiness, type Readiness, type ReadinessInput, type ReadinessService, type ServiceReadiness } from './readiness.js';
export { checkClusterReadiness, type ClusterReadiness, type ClusterReadinessInput, type WorkerReadiness } from './cluster-readiness.js';
export { renderProxyPac, pacProxyAddress, globRegexSource, type PacOptions } from './proxy-pac.js';
export { renderOnboardingPage, type OnboardingFields } from './onboarding-page.js';
export type { IncidentReportsOptions } from './incidents/incident-reports.js';
export { incidentReportsOptions, incidentLinkBase } from './incidents/reports-options.js';
export type { AdminUser } from './auth/admin-auth.js';
