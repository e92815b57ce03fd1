// Host globs for `match.hosts` and `proxy.tunnel`. Hosts arrive normalised by core/host
// (lower case, no trailing dot, IPv6 without brackets). Semantics, chosen to match what TLS
// wildcard certificates taught operators:
//   example.com      exactly that host
//   *.example.com    any subdomain at any depth (a.example.com, a.b.example.com), NOT the apex:
//                    list `example.com` too to cover both
//   files-*.example  `*` inside a label matches any run of characters within that one label
//   *                every host
export interface HostGlob {
  text: string;
  matches(host: string): boolean;
}

export function compileHostGlob(text: string): HostGlob {
  let glob = text.toLowerCase();
  if (glob.startsWith('[') && glob.endsWith(']')) glob = glob.slice(1, -1);
  if (glob.endsWith('.')) glob = glob.slice(0, -1);
  if (glob === '*') return { text, matches: () => true };
  if (!glob.includes('*')) return { text, matches: (host) => host === glob };
  const rest = glob.slice(2);
  if (glob.startsWith('*.') && !rest.includes('*')) {
    const suffix = '.' + rest;
    return { text, matches: (host) => host.length > suffix.length && host.endsWith(suffix) };
  }
  const body = glob.startsWith('*.') ? '(?:[^.]+\\.)+' + labelPattern(rest) : labelPattern(glob);
  const re = new RegExp(`^${body}$`);
  return { text, matches: (host) => re.test(host) };
}

function labelPattern(glob: string): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*');
}
