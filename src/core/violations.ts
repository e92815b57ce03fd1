// Violation names as scanning services send them. The built-in service names a content finding
// with how often it was found (`payment-card x3`, in X-Violations-Found): the block page shows the
// count, while logs, incidents and alert routes match on the name alone.

const COUNTED = /^(\S+) x(\d{1,9})$/;

/** `payment-card x3` → { name: 'payment-card', count: 3 }; a name without a count as it is. */
export function splitViolation(violation: string): { name: string; count?: number } {
  const counted = COUNTED.exec(violation);
  return counted ? { name: counted[1]!, count: Number(counted[2]) } : { name: violation };
}

/** The names without their counts (first occurrence order, no repeats) and the counts that were given. */
export function violationNames(violations: readonly string[]): { names: string[]; counts: Record<string, number> } {
  const names: string[] = [];
  const counts: Record<string, number> = {};
  for (const violation of violations) {
    const { name, count } = splitViolation(violation);
    if (!names.includes(name)) names.push(name);
    if (count !== undefined) counts[name] = (counts[name] ?? 0) + count;
  }
  return { names, counts };
}
