// Which e-mail route an incident goes to: each route of alerts.email.rules names the policy rules
// (globs) and violation names (globs) it wants, and the actions (block, monitor); a missing list
// matches anything, and a route matches when every list it has matches. Compiled once at start,
// so notify() does a few glob matches per route and nothing else.

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
  const rules = config.match.rules?.map(compileGlob);
  const violations = config.match.violations?.map(compileGlob);
  const actions = config.match.actions ? new Set<string>(config.match.actions) : undefined;
  return {
    config,
    matches(incident) {
      if (actions && !actions.has(incident.action)) return false;
      if (rules && !rules.some((glob) => glob(incident.rule))) return false;
      if (violations && !incident.violations.some((name) => violations.some((glob) => glob(name)))) return false;
      return true;
    },
  };
}

/**
 * `*` matches any run of characters (`:` and `.` included), everything else itself, ignoring
 * case. Matched without a regular expression: violation names come from the ICAP server, and a
 * glob with several stars as a backtracking regex would cost polynomial time on a long name; this
 * walk (the classic two-pointer wildcard match) is O(pattern × name) at worst.
 */
export function compileGlob(glob: string): (text: string) => boolean {
  const pattern = glob.toLowerCase();
  return (input) => {
    const text = input.toLowerCase();
    let p = 0;
    let t = 0;
    let star = -1;
    let resume = 0;
    while (t < text.length) {
      if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
        p++;
        t++;
      } else if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        resume = t;
      } else if (star >= 0) {
        p = star + 1;
        t = ++resume;
      } else {
        return false;
      }
    }
    while (pattern[p] === '*') p++;
    return p === pattern.length;
  };
}
