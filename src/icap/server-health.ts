// Health of one ICAP server as a state machine with an injected clock (no timers here), after
// Squid's icap_service_failure_limit and icap_service_revival_delay but visible (the service
// publishes every change). Unlike Squid, a success clears the count: only failures with no
// success between them suspend, so a busy server that fails one body in a hundred stays in use
// (the balancer's score already sends it less).
//
//   up ──(failureLimit failures within failureWindowMs, no success between)──► suspended
//    ▲                                                                           │
//    └──── a probe answers OPTIONS ◄── probe after revivalDelayMs·2^k ± jitter ◄─┘
//                                       (k = probes failed since suspension, capped at max)

export interface HealthPolicy {
  /** OPTIONS probe of an up server when it carried no successful transaction this long; 0 = never */
  probeIntervalMs: number;
  /** a probe's connect and answer must each come within this */
  probeTimeoutMs: number;
  /** failures that suspend the server; 0 = never suspend */
  failureLimit: number;
  failureWindowMs: number;
  /** first probe of a suspended server; doubles after each failed probe */
  revivalDelayMs: number;
  revivalDelayMaxMs: number;
  /** each revival delay varies by ± this fraction, so servers and workers do not probe in step */
  revivalJitterRatio: number;
}

export const DEFAULT_HEALTH: HealthPolicy = {
  probeIntervalMs: 15_000,
  probeTimeoutMs: 5_000,
  failureLimit: 5,
  failureWindowMs: 30_000,
  revivalDelayMs: 5_000,
  revivalDelayMaxMs: 60_000,
  revivalJitterRatio: 0.2,
};

export type ServerState = 'up' | 'suspended';

export interface StateChange {
  state: ServerState;
  reason: string;
  failures: number;
}

export class ServerHealth {
  private readonly policy: HealthPolicy;
  private failureTimes: number[] = [];
  private failedProbes = 0;
  state: ServerState = 'up';
  /** when the current state began (ms since the epoch) */
  since: number;
  lastError: string | undefined;

  constructor(policy: HealthPolicy, now = Date.now()) {
    this.policy = policy;
    this.since = now;
  }

  /** Failures counted toward suspension (within the window), or since suspension. */
  get failures(): number {
    return this.failureTimes.length;
  }

  /** A failure of a transaction or probe; returns the change when it suspends the server. */
  noteFailure(message: string, now = Date.now()): StateChange | undefined {
    this.lastError = message;
    this.failureTimes = this.failureTimes.filter((t) => now - t < this.policy.failureWindowMs);
    this.failureTimes.push(now);
    if (this.state === 'suspended') {
      this.failedProbes++;
      return undefined;
    }
    if (this.policy.failureLimit === 0 || this.failureTimes.length < this.policy.failureLimit) return undefined;
    this.state = 'suspended';
    this.since = now;
    this.failedProbes = 0;
    return { state: 'suspended', reason: `${this.failureTimes.length} failures within ${this.policy.failureWindowMs} ms, last: ${message}`, failures: this.failureTimes.length };
  }

  /**
   * A success clears the count. Only a probe revives a suspended server: a transaction that was
   * already in flight when it was suspended proves less than an OPTIONS answered on a new connection.
   */
  noteSuccess(byProbe: boolean, now = Date.now()): StateChange | undefined {
    if (this.state === 'suspended' && !byProbe) return undefined;
    const failures = this.failureTimes.length;
    this.failureTimes = [];
    if (this.state === 'up') return undefined;
    this.state = 'up';
    this.since = now;
    this.failedProbes = 0;
    return { state: 'up', reason: 'OPTIONS probe answered', failures };
  }

  /** Wait before the next probe of a suspended server: doubling from revivalDelayMs, jittered. */
  revivalDelay(random: () => number = Math.random): number {
    const base = Math.min(this.policy.revivalDelayMaxMs, this.policy.revivalDelayMs * 2 ** Math.min(this.failedProbes, 30));
    const jitter = base * this.policy.revivalJitterRatio * (2 * random() - 1);
    return Math.max(0, Math.round(base + jitter));
  }
}
