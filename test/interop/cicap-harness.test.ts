// The c-icap harness cleans up after itself even when c-icap cannot: c-icap 0.5 keeps its lock
// files in /tmp whatever its configuration says, and removes them only when it shuts down in time.
// A c-icap killed outright (as a stop that runs out of patience kills it) leaves none behind.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { startCicap } from '../support/peers/cicap.js';

const lockFiles = () => new Set(fs.readdirSync('/tmp').filter((name) => name.startsWith('icap_lock_')));

it('a c-icap killed with SIGKILL leaves no lock file in /tmp once stopped', async () => {
  const cicap = await startCicap({ services: ['echo'] });
  const ours = [...lockFiles()].filter((name) => held(cicap.pid!, name));
  expect(ours.length).toBeGreaterThan(0);
  process.kill(-cicap.pid!, 'SIGKILL');
  await cicap.stop();
  const left = lockFiles();
  for (const name of ours) expect(left.has(name), name).toBe(false);
});

/** Whether process `pid` holds /tmp/`name` open. */
function held(pid: number, name: string): boolean {
  return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `/tmp/${name}`;
    } catch {
      return false;
    }
  });
}
