// What is found inside one archive (a tar or a zip) by the rules that do not count inside software
// packages, held until the archive ends, because only then is it known whether the archive is a
// package. A package manager's archive (an npm tarball, a jar, a Python wheel or sdist, a NuGet
// package, a Ruby gem, a crate) carries what such a rule was not written for, by design:
//   - native code: esbuild, lightningcss, JNA, zstd-jni ship ELF, PE and Mach-O files, and
//     blocking those broke `npm install` (npm treats a blocked optional platform package as absent
//     and installs a broken tree, silently) and Maven builds (blockedFileTypes.insidePackages);
//   - the list of its authors: package.json contributors, AUTHORS and NOTICE files, a manifest's
//     Bundle-Developers, the public suffix list's maintainers in httpclient, 50 to 500 addresses
//     each (emailAddresses.insidePackages).
// Every other finding (cards, keys, credentials, EICAR, clamd's verdicts) counts inside packages.
//
// A package is recognised by its manifest, at the path its format puts it (the marker may come
// after the rest: a wheel writes its .dist-info last). What is inside an archive inside a package
// (a gem's data.tar.gz, a jar in a jar) is part of the package; a package inside a plain zip
// exempts only itself. Only its entries are inside it: its own records, the bytes it does not
// account for and what follows its end are read in the enclosing scope (Extraction.scopeAt), so an
// address export appended to an npm tarball still counts.
import type { FindingKind, FindingSink } from '../detectors/findings.js';

const PACKAGE_MANIFESTS = [
  /^package\/package\.json$/, // npm (npm-pack: every entry under package/)
  /^META-INF\/MANIFEST\.MF$/i, // jar, war, ear (JAR File Specification)
  /^[^/]+\.dist-info\/WHEEL$/, // Python wheel (PEP 427)
  /^[^/]+\/PKG-INFO$/, // Python sdist (PEP 643)
  /^[^/]+\.nuspec$/i, // NuGet package (root .nuspec)
  /^metadata\.gz$/, // Ruby gem (a tar of metadata.gz, data.tar.gz)
  /^[^/]+\/Cargo\.toml\.orig$/, // crate (cargo package keeps the original manifest beside the normalised one)
];

/** Distinct values held per finding, as Findings keeps them; past it each new one still counts. */
const MAX_HELD_VALUES = 10_000;

/** What the entries found of one name: a count, or distinct values (and those past the bound). */
interface Held {
  kind: FindingKind;
  minCount: number | undefined;
  count: number;
  values?: Set<string>;
}

export class ContainerScope {
  #package = false;
  readonly #held = new Map<string, Held>();

  /**
   * `depth`: the archive's own (its entries are at depth + 1); `notInPackages`: the finding names
   * that do not count inside a package.
   */
  constructor(
    readonly parent: ContainerScope | undefined,
    readonly depth: number,
    private readonly notInPackages: ReadonlySet<string>,
  ) {}

  /** An entry of this archive, by its path: a package manifest makes the archive a package. */
  entry(name: string | undefined): void {
    if (name !== undefined && !this.#package) this.#package = PACKAGE_MANIFESTS.some((manifest) => manifest.test(name));
  }

  /** Where the detectors of an entry record: what does not count inside packages is held here, the rest goes to `findings`. */
  sink(findings: FindingSink): FindingSink {
    return {
      add: (name, kind, minCount, count = 1) => {
        if (this.notInPackages.has(name)) this.#entry(name, kind, minCount).count += count;
        else findings.add(name, kind, minCount, count);
      },
      addDistinct: (name, kind, minCount, value) => {
        if (!this.notInPackages.has(name)) return findings.addDistinct(name, kind, minCount, value);
        const held = this.#entry(name, kind, minCount);
        const values = (held.values ??= new Set());
        if (values.size < MAX_HELD_VALUES) values.add(value);
        else if (!values.has(value)) held.count++;
      },
    };
  }

  /** The archive ended: what it held goes to the enclosing archive, or to `findings` at the top, unless it is a package. */
  close(findings: FindingSink): void {
    if (this.#package) return;
    const to = this.parent?.sink(findings) ?? findings;
    for (const [name, held] of this.#held) {
      for (const value of held.values ?? []) to.addDistinct(name, held.kind, held.minCount ?? 1, value);
      if (held.count > 0) to.add(name, held.kind, held.minCount, held.count);
    }
  }

  #entry(name: string, kind: FindingKind, minCount: number | undefined): Held {
    let held = this.#held.get(name);
    if (held === undefined) this.#held.set(name, (held = { kind, minCount, count: 0 }));
    return held;
  }
}
