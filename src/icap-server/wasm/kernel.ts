// One instance of a WebAssembly kernel of the built-in service (AssemblyScript sources, committed
// compiled as base64 by `npm run build:wasm`, as undici commits llhttp's): its exports, and its
// memory as a Buffer that grows to the largest input and stays. Each call into a kernel is
// synchronous, so one instance per kernel and thread serves every scan.

const PAGE = 65536;

/** The part of the WebAssembly API used here (TypeScript types it in its DOM library, not Node's). */
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } } }).WebAssembly;
const modules = new Map<string, object>();

export interface KernelMemory {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
}

export class Kernel<Exports extends KernelMemory> {
  readonly exports: Exports;
  #bytes: Buffer | undefined;

  /** `base64`: the module, compiled once per thread whatever the number of instances. */
  constructor(base64: string) {
    let module = modules.get(base64);
    if (module === undefined) modules.set(base64, (module = new wasm.Module(Buffer.from(base64, 'base64'))));
    this.exports = new wasm.Instance(module).exports as Exports;
  }

  /** The memory as a Buffer of at least `size` bytes (a grown memory has a new buffer). */
  reserve(size: number): Buffer {
    const memory = this.exports.memory;
    if (memory.buffer.byteLength < size) memory.grow(Math.ceil((size - memory.buffer.byteLength) / PAGE));
    if (this.#bytes?.buffer !== memory.buffer) this.#bytes = Buffer.from(memory.buffer);
    return this.#bytes;
  }
}
