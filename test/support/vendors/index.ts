// The vendor simulators: one script per product, each citing the vendor pages (or, where none was
// found, the captures and code) it answers by. c-icap is not simulated: the real one runs in
// test/interop/.
import { clearswift } from './clearswift.js';
import { eset } from './eset.js';
import { forcepoint } from './forcepoint.js';
import { kaspersky } from './kaspersky.js';
import { metadefender } from './metadefender.js';
import type { VendorScript } from './simulator.js';
import { sophos } from './sophos.js';
import { symantec } from './symantec.js';
import { trellix } from './trellix.js';
import { trendMicro } from './trend-micro.js';

export const VENDOR_SCRIPTS: VendorScript[] = [symantec, forcepoint, metadefender, trellix, kaspersky, sophos, eset, trendMicro, clearswift];
export * from './simulator.js';
