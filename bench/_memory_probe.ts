/**
 * A memory probe for a benchmark's child process, loaded with `deno run
 * --preload bench/_memory_probe.ts` so that the importer's own code is
 * unchanged. Every `IMPORT_MEMORY_PROBE_MS` milliseconds (1,000 by default)
 * it appends one JSON line to the file named by `IMPORT_MEMORY_PROBE`:
 * `Deno.memoryUsage()` (rss, heapTotal, heapUsed, external), V8's heap
 * spaces, and `/proc/self/smaps` summed by kind of mapping (the binary's
 * file pages, the V8 heap's, anonymous memory by size class of mapping,
 * the glibc arenas), so that a growing RSS can be traced to what grows.
 * Without `IMPORT_MEMORY_PROBE` it does nothing.
 *
 * Why by kind: a heap snapshot sees only V8's live objects; RSS also holds
 * pages V8 committed but no longer uses, native buffers of fetch, hyper and
 * rustls, Deno KV's SQLite page cache, and what the allocator keeps after a
 * free. Each lives in a different kind of mapping.
 *
 * @module
 */

import { getHeapSpaceStatistics } from "node:v8";

const PATH = Deno.env.get("IMPORT_MEMORY_PROBE");
const EVERY_MS = Number(Deno.env.get("IMPORT_MEMORY_PROBE_MS") ?? 1_000);

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
  rssKiB: number;
  anonKiB: number;
}

function readMappings(): Mapping[] {
  const text = Deno.readTextFileSync("/proc/self/smaps");
  const mappings: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      current = {
        start: BigInt(`0x${head[1]}`),
        end: BigInt(`0x${head[2]}`),
        perms: head[3],
        name: head[4],
        rssKiB: 0,
        anonKiB: 0,
      };
      mappings.push(current);
      continue;
    }
    if (!current) continue;
    if (line.startsWith("Rss:")) current.rssKiB = Number(line.split(/\s+/)[1]);
    else if (line.startsWith("Anonymous:")) current.anonKiB = Number(line.split(/\s+/)[1]);
  }
  return mappings;
}

const ARENA = 64n * 2n ** 20n;

/**
 * RSS by kind of mapping. A glibc thread arena is a 64 MiB-aligned 64 MiB
 * reservation whose used part is read-write and the rest inaccessible (one
 * or two mappings); other anonymous mappings are bucketed by their size
 * (V8's heap pages are 256 KiB each, so they fall under 1 MiB).
 */
function summarize(mappings: Mapping[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  const add = (kind: string, kib: number) => {
    if (kib > 0) kinds[kind] = (kinds[kind] ?? 0) + kib;
  };
  for (const [i, mapping] of mappings.entries()) {
    if (mapping.name === "") {
      const next = mappings[i + 1];
      const arena = mapping.start % ARENA === 0n && mapping.perms.startsWith("rw") &&
        (mapping.end - mapping.start === ARENA ||
          (next?.name === "" && next.perms.startsWith("---") && next.start === mapping.end &&
            next.end === mapping.start + ARENA));
      const sizeMiB = Number(mapping.end - mapping.start) / 2 ** 20;
      if (arena) add("anon:malloc-arena", mapping.rssKiB);
      else if (sizeMiB >= 256) add("anon:>=256MiB", mapping.rssKiB);
      else if (sizeMiB >= 1) add("anon:1-256MiB", mapping.rssKiB);
      else add("anon:<1MiB", mapping.rssKiB);
    } else if (mapping.name.startsWith("/")) {
      add(
        mapping.name.includes("deno") ? "file:deno" : "file:other",
        mapping.rssKiB - mapping.anonKiB,
      );
      add("anon:file-cow", mapping.anonKiB);
    } else if (mapping.name === "[heap]") add("anon:brk-heap", mapping.rssKiB);
    else if (mapping.name.startsWith("[stack")) add("anon:stack", mapping.rssKiB);
    else add(`other:${mapping.name}`, mapping.rssKiB);
  }
  return kinds;
}

/** Every anonymous mapping of at least `minKiB` resident, for a closer look. */
function largest(mappings: Mapping[], minKiB: number): string[] {
  return mappings
    .filter((m) => m.name === "" && m.rssKiB >= minKiB)
    .map((m) => `${m.start.toString(16)}+${Number(m.end - m.start) >> 10}K:${m.perms}:${m.rssKiB}`);
}

/**
 * Anonymous mappings under 1 MiB by size in KiB: resident KiB and count of
 * each size, so that V8's 256 KiB pages can be told from the allocator's
 * own mmapped chunks.
 */
function smallBySize(mappings: Mapping[]): Record<string, [number, number]> {
  const sizes: Record<string, [number, number]> = {};
  for (const m of mappings) {
    const kib = Number(m.end - m.start) >> 10;
    if (m.name !== "" || kib >= 1024 || m.rssKiB === 0) continue;
    const entry = sizes[kib] ??= [0, 0];
    entry[0] += m.rssKiB;
    entry[1]++;
  }
  return sizes;
}

function sample(started: number): string {
  const usage = Deno.memoryUsage();
  const spaces: Record<string, number> = {};
  for (const space of getHeapSpaceStatistics()) {
    spaces[space.space_name] = Math.round(space.space_size / 1024);
  }
  const mappings = readMappings();
  const kib = (bytes: number) => Math.round(bytes / 1024);
  return JSON.stringify({
    t: Math.round(performance.now() - started),
    rssKiB: kib(usage.rss),
    heapTotalKiB: kib(usage.heapTotal),
    heapUsedKiB: kib(usage.heapUsed),
    externalKiB: kib(usage.external),
    spacesKiB: spaces,
    smapsKiB: summarize(mappings),
    mappings: mappings.length,
    big: largest(mappings, 1024),
    small: smallBySize(mappings),
  });
}

if (PATH) {
  const started = performance.now();
  const file = Deno.openSync(PATH, { write: true, create: true, append: true });
  const encoder = new TextEncoder();
  const write = () => file.writeSync(encoder.encode(sample(started) + "\n"));
  write();
  // Unref'd: the probe must not keep the importer alive after its run.
  Deno.unrefTimer(setInterval(write, EVERY_MS));
  globalThis.addEventListener("unload", write);
}
