// The proxy's certificate authority: the root CA in `ca/ca.pem` + `ca/ca-key.pem` (created on
// first run, 0600), leaf certificates for intercepted hosts issued in memory from one shared key
// and signed through node:crypto, and a bounded single-flight cache of TLS server contexts.
// `readCaCertificate` serves `dlp-proxy ca export` without loading the key or creating anything.
export { CertificateAuthority, CA_ISSUE_CHANNEL } from './certificate-authority.js';
export type { CaOptions, CaStats, CaIssueEvent } from './certificate-authority.js';
export { readCaCertificate, CA_CERT_FILE, CA_KEY_FILE } from './root-ca-store.js';
