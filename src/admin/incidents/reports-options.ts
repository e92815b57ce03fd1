// The composition root's side of the incident reports: their options from the config in force
// (getters, so a SIGHUP reload of admin.users, admin.sessionTtlMs or admin.publicUrl applies to the
// next request), and the address the block page links an incident number to.
import type { Config } from '../../config/index.js';
import { formatAuthority } from '../../core/host.js';
import type { IncidentReader } from '../../incidents/index.js';
import type { AdminUser } from '../auth/admin-auth.js';
import type { IncidentReportsOptions } from './incident-reports.js';

export function incidentReportsOptions(config: () => Config, reader: IncidentReader | undefined): IncidentReportsOptions {
  return {
    reader,
    get users(): readonly AdminUser[] {
      return config().admin.users;
    },
    get sessionTtlMs(): number {
      return config().admin.sessionTtlMs;
    },
    get publicUrl(): string | undefined {
      return config().admin.publicUrl;
    },
  };
}

/**
 * Where the block page links an incident number (`<base><id>`): admin.publicUrl when set, else
 * the admin listener's own address when it is bound to one (a wildcard bind names no address a
 * browser could use). Undefined, so no link, when no admin user could open the page.
 */
export function incidentLinkBase(admin: Pick<Config['admin'], 'enabled' | 'host' | 'users' | 'tls' | 'publicUrl'>, adminPort: number): string | undefined {
  if (!admin.enabled || admin.users.length === 0) return undefined;
  if (admin.publicUrl !== undefined) return `${admin.publicUrl.replace(/\/$/, '')}/incidents/`;
  if (admin.host === '0.0.0.0' || admin.host === '::') return undefined;
  const tls = admin.tls !== undefined;
  return `${tls ? 'https' : 'http'}://${formatAuthority(admin.host, adminPort, tls ? 443 : 80)}/incidents/`;
}
