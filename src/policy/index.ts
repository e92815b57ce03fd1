// Policy: pure rule matching (no I/O). compilePolicy() turns the config's ordered rules into a
// Policy whose decide() answers pass | block | scan(service) for one side of an exchange, whose
// connectAction() answers tunnel | intercept for a CONNECT, and whose version (a hash of rules and
// verdict-relevant service settings) keys the verdict cache. Every decision explains itself.
export { compilePolicy, policyVersion, type ConnectContext, type Policy } from './compile-policy.js';
export type { PolicyInput } from './policy-input.js';
export { compileHostGlob, type HostGlob } from './host-glob.js';
export { compileCidr, parseIp, type Cidr, type IpWords } from './cidr.js';
