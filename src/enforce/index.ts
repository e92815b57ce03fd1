// Enforcement: turns an ICAP result into a verdict (classify, with vendor profiles, `vendor: auto`
// detection from OPTIONS and the violation names vendors report), decides fail-open or fail-closed
// per service and error class (failMode), renders the block, unavailable and error pages (HTML or
// JSON), and issues incident ids.
// Pure except for holding adapted bodies in a spool and reading page templates at start.
export { classify, type AdaptedMessage, type Classification, type ClassifyContext } from './classify.js';
export { VENDOR_PROFILES, PROFILES_REVISION, profileKeyPart, type Vendor, type VendorProfile, type VendorSetting } from './vendor-profiles.js';
export { detectVendor, type VendorDetection } from './vendor-detect.js';
export { resolveVendor, VENDOR_PROFILE_CHANNEL, type VendorProfileMessage } from './resolve-vendor.js';
export { findings, parseInfectionFound, parseViolationsFound, type Findings } from './violations.js';
export { failClass, failMode, type FailClass } from './fail-policy.js';
export {
  configurePages,
  renderPage,
  linkIncidents,
  type BlockPageFields,
  type ErrorPageFields,
  type PageFields,
  type PageHints,
  type PageKind,
  type RenderedPage,
  type UnavailablePageFields,
} from './render-page.js';
export { prefersJson } from './prefers-json.js';
export { newIncidentId, incidentTime } from './incident-id.js';
