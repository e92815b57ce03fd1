// Temp files for spools. On POSIX the file is unlinked the moment it is opened (what nginx does
// for client_body_temp): the descriptor keeps the data, nothing is left behind whatever ends the
// process (crash, SIGKILL), and closing the descriptor frees the space. Windows cannot unlink an
// open file, so there the path is kept until release and swept at process exit.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const unlinkEarly = process.platform !== 'win32';
const lingering = new Set<string>();
let sweepInstalled = false;

export interface TempFile {
  handle: FileHandle;
  /** set only where the file still has a name (Windows) */
  path: string | undefined;
}

export async function openTempFile(dir: string | undefined): Promise<TempFile> {
  const file = path.join(dir ?? os.tmpdir(), `dlp-proxy-spool-${process.pid}-${randomUUID()}`);
  // O_EXCL: never follow a planted file or symlink; 0600: bodies are confidential by definition.
  const handle = await fs.promises.open(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o600);
  if (unlinkEarly) {
    try {
      await fs.promises.unlink(file);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    return { handle, path: undefined };
  }
  lingering.add(file);
  if (!sweepInstalled) {
    sweepInstalled = true;
    process.once('exit', () => {
      for (const f of lingering) fs.rmSync(f, { force: true });
    });
  }
  return { handle, path: file };
}

export async function closeTempFile(file: TempFile): Promise<void> {
  await file.handle.close().catch(() => undefined);
  if (file.path !== undefined) {
    lingering.delete(file.path);
    await fs.promises.rm(file.path, { force: true });
  }
}

/** Write every byte of `buffers` at `position` (positional, so readers at other offsets are unaffected). */
export async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten === 0) throw new Error('temp file write made no progress');
    at += bytesWritten;
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    pending = rest;
  }
}
