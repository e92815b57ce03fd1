// What a vendor does differently from the generic ICAP reading of DESIGN.md. The generic rules
// already cover c-icap (X-Infection-Found, X-Violations-Found, X-Response-Info: block, a 403 page;
// a Via-only echo from srv_content_filtering is judged unchanged) and a REQMOD answered with an HTTP
// response (request satisfaction, RFC 3507 §4.8.4) is a block for every vendor.
import type { ServiceConfig } from '../config/schema.js';

export interface VendorProfile {
  /** RESPMOD: any change to the response is a block (the vendor swaps the body for its notice). */
  respmodChangeIsBlock: boolean;
  /** No header names the violation: take the reason from the text of the vendor's page. */
  reasonFromPage: boolean;
  /**
   * The encapsulated head must carry Content-Length, or the body is not inspected: c-icap's
   * srv_content_filtering answers 204 for any body whose HTTP head has none (seen with 0.5.10 on
   * REQMOD and RESPMOD, with and without preview). Bodies of unknown length are then held whole
   * and sent with their length instead of streamed.
   */
  needsContentLength: boolean;
}

export const VENDOR_PROFILES: Record<ServiceConfig['vendor'], VendorProfile> = {
  generic: { respmodChangeIsBlock: false, reasonFromPage: false, needsContentLength: false },
  'c-icap': { respmodChangeIsBlock: false, reasonFromPage: false, needsContentLength: true },
  // Symantec DLP Network Prevent for Web blocks with an HTTP 200 whose body is the response rule's
  // message ("Content blocked due to policy violation") and no violation header; in RESPMOD it
  // replaces the body the same way. Its only modification that is not a block is REQMOD redaction.
  symantec: { respmodChangeIsBlock: true, reasonFromPage: true, needsContentLength: false },
};
