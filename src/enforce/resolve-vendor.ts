// The profile in force for a service: the configured one, or with `vendor: auto` the one its
// OPTIONS call for (vendor-detect.ts). Resolved on every scan from the OPTIONS value in hand, so a
// server replaced by another product (its OPTIONS refreshed at Options-TTL) is read by the right
// profile from then on; detection runs once per OPTIONS value. Each choice, and each change of it,
// is published once per service on VENDOR_PROFILE_CHANNEL for log/ to write (the choice and why,
// or a warning when a configured vendor disagrees with what OPTIONS say).
import diagnostics from 'node:diagnostics_channel';
import type { IcapHeaders } from '../core/types.js';
import { detectVendor } from './vendor-detect.js';
import { VENDOR_PROFILES, type Vendor, type VendorProfile, type VendorSetting } from './vendor-profiles.js';

export const VENDOR_PROFILE_CHANNEL = 'dlp-proxy:enforce:vendor-profile';

/** Published when a service's profile is first chosen and whenever the choice changes. */
export interface VendorProfileMessage {
  service: string;
  /** the profile in force from now on */
  vendor: Vendor;
  configured: VendorSetting;
  /** what OPTIONS call for, and why */
  detected: Vendor;
  reason: string;
  /** the profile in force before, when this is a change */
  previous?: Vendor;
}

export const vendorProfileChannel = diagnostics.channel(VENDOR_PROFILE_CHANNEL);

interface Resolution {
  options: IcapHeaders;
  configured: VendorSetting;
  profile: VendorProfile;
}

// Per service instance (its IcapService object), so two apps in one process never share a choice.
const resolved = new WeakMap<object, Resolution>();

/**
 * The profile for a service whose OPTIONS headers are `options`. `scope` identifies the service
 * instance (the pipeline passes its IcapService); `service` is its configured name.
 */
export function resolveVendor(scope: object, service: string, configured: VendorSetting, options: IcapHeaders): VendorProfile {
  const last = resolved.get(scope);
  if (last && last.options === options && last.configured === configured) return last.profile;
  const detection = detectVendor(options);
  const vendor = configured === 'auto' ? detection.vendor : configured;
  const profile = VENDOR_PROFILES[vendor];
  resolved.set(scope, { options, configured, profile });
  if (last?.profile.vendor !== vendor && vendorProfileChannel.hasSubscribers) {
    const message: VendorProfileMessage = { service, vendor, configured, detected: detection.vendor, reason: detection.reason };
    if (last) message.previous = last.profile.vendor;
    vendorProfileChannel.publish(message);
  }
  return profile;
}
