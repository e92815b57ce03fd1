// The ProxyError a promise rejects with; a resolution or any other error fails the test.
import { ProxyError } from '../../src/core/errors.js';

export async function proxyErrorOf(p: Promise<unknown>): Promise<ProxyError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ProxyError) return err;
    throw err;
  }
  throw new Error('expected a ProxyError');
}
