// The part of autocannon 9's API the bench uses (the package ships no type declarations).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    /** Sampling interval in ms; the run also checks its end at each sample. */
    sampleInt?: number;
    headers?: Record<string, string>;
    /** Replace `[<id>]` in each request (body included) with a fresh id: a unique body per request. */
    idReplacement?: boolean;
    requests?: Array<{ method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }>;
  }

  interface Result {
    requests: { total: number };
    throughput: { total: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }

  interface Instance extends EventEmitter {
    stop(): void;
  }

  function autocannon(options: Options, callback: (err: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
