// Which e-mail route an incident goes to: each route of alerts.email.rules names the policy rules
// (globs) and violation names (globs) it wants, and the actions (block, monitor); a missing list
// matches anything, and a route matches when every list it has matches. Compiled once at start,
// so notify() does a few regex tests per route and nothing else.

/** The fields of one incident an e-mail may carry: the violation log line's, never content. */
export interface EmailIncident {
  incident: string;
  time: string;
  client: string;
  user?: string | undefined;
  method: string;
  host: string;
  path: string;
  direction: string;
  rule: string;
  service?: string | undefined;
  istag?: string | undefined;
  source: string;
  action: string;
  violations: readonly string[];
  reason?: string | undefined;
  sizeBytes: number;
  sha256?: string | undefined;
}

export interface EmailRouteConfig {
  /** metric label and log name */
  name: string;
  match: {
    /** globs of policy rule names (`*` = any run of characters), case-insensitive */
    rules?: readonly string[] | undefined;
    /** globs of violation names (payment-card, keyword:*, Win.Test.EICAR_HDB-1), case-insensitive; one match is enough */
    violations?: readonly string[] | undefined;
    actions?: ReadonlyArray<'block' | 'monitor'> | undefined;
  };
  to: readonly string[];
  mode: 'immediate' | 'digest';
  digestMinutes: number;
}

export interface EmailRoute {
  config: EmailRouteConfig;
  matches(incident: EmailIncident): boolean;
}

export function compileRoute(config: EmailRouteConfig): EmailRoute {
  const rules = config.match.rules?.map(globRegExp);
  const violations = config.match.violations?.map(globRegExp);
  const actions = config.match.actions ? new Set<string>(config.match.actions) : undefined;
  return {
    config,
    matches(incident) {
      if (actions && !actions.has(incident.action)) return false;
      if (rules && !rules.some((re) => re.test(incident.rule))) return false;
      if (violations && !incident.violations.some((name) => violations.some((re) => re.test(name)))) return false;
      return true;
    },
  };
}

/** `*` matches any run of characters (`:` and `.` included); everything else is literal. */
export function globRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'is');
}
