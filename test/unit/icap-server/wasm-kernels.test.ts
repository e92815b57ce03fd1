// The committed WebAssembly of each kernel (test/support/build-wasm.ts KERNELS) is what its
// AssemblyScript source compiles to: `npm run build:wasm` after changing a source.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileKernel, KERNELS, kernelModuleText } from '../../support/build-wasm.js';

describe('WebAssembly kernels', () => {
  for (const kernel of KERNELS) {
    it(`${path.basename(kernel.module)} is what ${path.basename(kernel.source)} compiles to`, async () => {
      expect(fs.readFileSync(kernel.module, 'utf8')).toBe(kernelModuleText(kernel, await compileKernel(kernel)));
    }, 60_000);
  }
});

describe('WebAssembly kernels keep nothing in their memory', () => {
  // The callers lay out all of each kernel's memory from byte 0 (tables, input, output): a data
  // segment (a string literal, a constant table) would be overwritten by the first input.
  for (const kernel of KERNELS) {
    it(`${path.basename(kernel.source)} has no data segment`, async () => {
      const wasm = await compileKernel(kernel);
      const sections: number[] = [];
      for (let at = 8; at < wasm.length; ) {
        const id = wasm[at++]!;
        let size = 0;
        for (let shift = 0; ; shift += 7) {
          const byte = wasm[at++]!;
          size |= (byte & 0x7f) << shift;
          if (byte < 0x80) break;
        }
        sections.push(id);
        at += size;
      }
      expect(sections).toContain(10); // code
      expect(sections).not.toContain(11); // data
    }, 60_000);
  }
});
