/**
 * Command-line flags: every flag's definition and help in one table, the
 * shape of a command (its own flags, help and handler), and the parser that
 * reads a command line against the command it names. `node:util` parseArgs
 * tokenizes; the checks on its tokens are ours, so no message of Node's ever
 * reaches the user.
 *
 * To add a flag: one entry in {@linkcode FLAGS}, and its name in the `flags`
 * of each command that takes it. To add a command: a {@linkcode CommandSpec}
 * in its own module, listed in `main.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Console } from "./environment.ts";
import { UsageError } from "./usage_error.ts";

/** Where a flag is listed in a command's help. */
export type FlagSection =
  | "Input"
  | "Organizations"
  | "Behaviour"
  | "Limits"
  | "Checkpoints"
  | "Output"
  | "General";

/** One flag: how it parses and how `--help` shows it. */
export interface FlagSpec {
  /** A string flag takes a value; a boolean flag takes none. */
  type: "string" | "boolean";
  /** A one-letter alias (`-h`). */
  short?: string;
  /** A string flag whose value may be left out (`--resume [job-id]`). */
  optionalValue?: boolean;
  /** A string flag that may be given more than once; its values are kept in order. */
  multiple?: boolean;
  /** The value's placeholder in help, e.g. `<path>`. */
  value?: string;
  /** One line of help. */
  help: string;
  /** The help section it is listed in. */
  section: FlagSection;
}

/**
 * Every flag any command takes. A flag means one thing whatever the command,
 * so it is defined once; each command lists the names it takes.
 */
export const FLAGS = {
  "csv": {
    type: "string",
    value: "<path|->",
    section: "Input",
    help: "CSV file, or - for standard input",
  },
  "input": {
    type: "string",
    value: "<path|->",
    section: "Input",
    help: "CSV or NDJSON file (format from the extension or first byte)",
  },
  "format": {
    type: "string",
    value: "csv|ndjson",
    section: "Input",
    help: "force the input format",
  },
  "delimiter": {
    type: "string",
    value: "<char>",
    section: "Input",
    help: 'CSV column separator: , ; | or tab (",")',
  },
  "from": {
    type: "string",
    value: "<source>",
    section: "Input",
    help: "read a provider's export: auth0, firebase, clerk, supabase, cognito, supertokens",
  },
  "password-hashes": {
    type: "string",
    value: "<path>",
    section: "Input",
    help: "auth0: the password hash NDJSON from Auth0 support",
  },
  "hash-config": {
    type: "string",
    value: "<path>",
    section: "Input",
    help: "firebase: the project's password hash parameters",
  },
  "map": {
    type: "string",
    multiple: true,
    value: "<from=to|file>",
    section: "Input",
    help: "read a column (or an export's field) as an importer column; repeatable",
  },
  "user-export": {
    type: "string",
    value: "<path>",
    section: "Input",
    help: "deprecated alias of --csv",
  },
  "org-id": {
    type: "string",
    value: "<id>",
    section: "Organizations",
    help: "every user joins this organization",
  },
  "org-external-id": {
    type: "string",
    value: "<id>",
    section: "Organizations",
    help: "every user joins the organization with this external id",
  },
  "create-org-if-missing": {
    type: "boolean",
    section: "Organizations",
    help: "create it when missing (needs --org-name)",
  },
  "org-name": {
    type: "string",
    value: "<name>",
    section: "Organizations",
    help: "name of the organization to create",
  },
  "require-membership": {
    type: "boolean",
    section: "Organizations",
    help: "delete a user this run created when its membership fails",
  },
  "dry-run": {
    type: "boolean",
    section: "Behaviour",
    help: "parse, validate and plan; no API call",
  },
  "plan": {
    type: "boolean",
    section: "Behaviour",
    help: "read-only prediction against the live tenant",
  },
  "out": {
    type: "string",
    value: "<dir>",
    section: "Output",
    help: "the directory convert writes the migration package to",
  },
  "report": {
    type: "string",
    value: "<path>",
    section: "Output",
    help: "where the JSON report goes",
  },
  "on-existing": {
    type: "string",
    value: "skip|update|error",
    section: "Behaviour",
    help: "existing users: adopt (default), update, or fail the row",
  },
  "invite": {
    type: "boolean",
    section: "Behaviour",
    help: "send invitations instead of creating users",
  },
  "invite-expires-days": {
    type: "string",
    value: "<n>",
    section: "Behaviour",
    help: "invitation lifetime (7)",
  },
  "invite-rate": {
    type: "string",
    value: "<n>",
    section: "Limits",
    help: "invitations per second (10)",
  },
  "totp-issuer": {
    type: "string",
    value: "<name>",
    section: "Behaviour",
    help: "issuer of TOTP factors whose row has no totp_issuer",
  },
  "concurrency": { type: "string", value: "<n>", section: "Limits", help: "rows in flight (10)" },
  "rate-limit": {
    type: "string",
    value: "<n>",
    section: "Limits",
    help: "user-management writes per second (50; reads get twice that)",
  },
  "max-retries": {
    type: "string",
    value: "<n>",
    section: "Limits",
    help: "retries of a transient failure (5)",
  },
  "request-timeout": {
    type: "string",
    value: "<s>",
    section: "Limits",
    help: "seconds before a request counts as failed (30)",
  },
  "max-outage": {
    type: "string",
    value: "<duration>",
    section: "Limits",
    help: "how long to wait while WorkOS does not answer (15m; 90s, 2h or seconds)",
  },
  "api-url": {
    type: "string",
    value: "<url>",
    section: "Limits",
    help: "WorkOS API location (WORKOS_API_URL, https://api.workos.com)",
  },
  "job-id": {
    type: "string",
    value: "<id>",
    section: "Checkpoints",
    help: "start a checkpointed, resumable job",
  },
  "resume": {
    type: "string",
    optionalValue: true,
    value: "[job-id]",
    section: "Checkpoints",
    help: "continue a job (no id: the most recent)",
  },
  "chunk-size": {
    type: "string",
    value: "<n>",
    section: "Checkpoints",
    help: "rows committed together (1000)",
  },
  "checkpoint-dir": {
    type: "string",
    value: "<path>",
    section: "Checkpoints",
    help: "where jobs live (.workos-checkpoints)",
  },
  "allow-changed-input": {
    type: "boolean",
    section: "Checkpoints",
    help: "resume although the input file changed",
  },
  "audit-file": {
    type: "string",
    value: "<path>",
    section: "Input",
    help: "the audit log to undo",
  },
  "limit": {
    type: "string",
    value: "<n>",
    section: "Behaviour",
    help: "import only the first n rows (the verify-login canary accounts)",
  },
  "client-id": {
    type: "string",
    value: "<id>",
    section: "Behaviour",
    help: "WorkOS client ID for password sign-ins (WORKOS_CLIENT_ID)",
  },
  "include-uncertain": {
    type: "boolean",
    section: "Behaviour",
    help: "also delete what the job found made while a crash had cut it off",
  },
  "errors-out": {
    type: "string",
    value: "<path>",
    section: "Output",
    help: "failed rows: .csv, .json or .jsonl",
  },
  "audit-out": {
    type: "string",
    value: "<path>",
    section: "Output",
    help: "append every write to this audit log (a job keeps its own)",
  },
  "quiet": { type: "boolean", section: "Output", help: "no per-row lines" },
  "json": { type: "boolean", section: "Output", help: "the result as one JSON object on stdout" },
  "help": { type: "boolean", short: "h", section: "General", help: "this text" },
  "version": { type: "boolean", short: "V", section: "General", help: "the version" },
} as const satisfies Record<string, FlagSpec>;

/** A flag's long name. */
export type FlagName = keyof typeof FLAGS;

/** The flags as given, keyed by their long name. */
export type Flags = {
  [K in FlagName]?: typeof FLAGS[K] extends { multiple: true } ? string[]
    : typeof FLAGS[K]["type"] extends "boolean" ? boolean
    : string;
};

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagName[] = ["help", "version"];

/** What a command's handler gets. */
export interface CommandInput {
  /** The flags given (only the command's own). */
  flags: Flags;
  /** Arguments after the command's name. */
  positionals: string[];
  /** Where lines go. */
  console: Console;
}

/** A command: its name, its own flags and help, and its handler. */
export interface CommandSpec {
  /** The word that selects it (`validate`); `import` runs when none is named. */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** Usage lines, without the program name. */
  usage: readonly string[];
  /** The flags it takes, besides `--help` and `--version`. */
  flags: readonly FlagName[];
  /** Lines after the flags in its help (notes, environment). */
  notes?: readonly string[];
  /** Runs it; returns the exit code. */
  run(input: CommandInput): Promise<number>;
}

/** Marks a bare `--resume` (resume the most recent job). */
export const RESUME_LATEST = "";

/** A parsed command line. */
export interface ParsedArgs {
  /** The command named, or the default one. */
  command: CommandSpec;
  /** Positional arguments after the command. */
  positionals: string[];
  /** The flags given. */
  flags: Flags;
}

const PROGRAM = "workos-importer";

/**
 * Parses a command line against the commands: finds the command, then
 * refuses any flag that is not its own, with a did-you-mean for a flag that
 * is nobody's and the command's help for a flag of another command.
 *
 * @param args The arguments, without the program name.
 * @param commands The commands; the first runs when none is named.
 * @returns The command, positionals and flags.
 * @throws {UsageError} For unknown or foreign flags and missing or unwanted values.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * const commands = [
 *   { name: "import", summary: "", usage: [], flags: ["csv", "dry-run"], run: () => Promise.resolve(0) },
 * ] as const;
 * const parsed = parseCommandLine(["--csv", "users.csv", "--dry-run"], commands);
 * console.log(parsed.command.name, parsed.flags.csv, parsed.flags["dry-run"]); // import users.csv true
 * ```
 */
export function parseCommandLine(
  args: readonly string[],
  commands: readonly CommandSpec[],
): ParsedArgs {
  const { tokens } = parseArgs({
    args: [...args],
    options: parserOptions(),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  // A value that follows a flag whose value is optional belongs to the flag.
  const bound = new Set<number>();
  for (const [i, token] of tokens.entries()) {
    const next = tokens[i + 1];
    if (
      token.kind === "option" && isFlagName(token.name) && isOptionalValue(token.name) &&
      token.value === undefined && next?.kind === "positional" && next.index === token.index + 1
    ) {
      bound.add(i);
    }
  }
  const positionals: string[] = [];
  let command = commands[0];
  let named = false;
  for (const [i, token] of tokens.entries()) {
    if (token.kind !== "positional" || bound.has(i - 1)) continue;
    const match = commands.find((candidate) => candidate.name === token.value);
    if (!named && positionals.length === 0 && match) {
      command = match;
      named = true;
      continue;
    }
    positionals.push(token.value);
  }
  const own = new Set<string>([...command.flags, ...GLOBAL_FLAGS]);
  const flags: Record<string, string | boolean | string[]> = {};
  for (const [i, token] of tokens.entries()) {
    if (token.kind !== "option") continue;
    const shown = token.rawName;
    if (!isFlagName(token.name)) throw unknownFlag(shown, command, commands);
    if (!own.has(token.name)) throw foreignFlag(token.name, command, commands);
    const spec: FlagSpec = FLAGS[token.name];
    if (isOptionalValue(token.name)) {
      flags[token.name] = token.value ?? (bound.has(i) ? tokenValue(tokens[i + 1]) : RESUME_LATEST);
      continue;
    }
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        throw new UsageError(`Flag "--${token.name}" takes no value: write --${token.name} alone`);
      }
      flags[token.name] = true;
      continue;
    }
    // parseArgs takes the next argument as the value, even another flag.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith("--"))) {
      throw new UsageError(
        `Flag "--${token.name}" needs a value: --${token.name} ${spec.value ?? "<value>"}`,
      );
    }
    if (spec.multiple) {
      flags[token.name] = [...(flags[token.name] as string[] | undefined ?? []), token.value];
    } else {
      flags[token.name] = token.value;
    }
  }
  return { command, positionals, flags: flags as Flags };
}

function tokenValue(token: { kind: string; value?: string } | undefined): string {
  return token?.value ?? RESUME_LATEST;
}

function parserOptions(): Record<string, { type: "string" | "boolean"; short?: string }> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(FLAGS) as Array<[string, FlagSpec]>) {
    // An optional value cannot be said to parseArgs: the value is bound afterwards.
    options[name] = {
      type: spec.optionalValue ? "boolean" : spec.type,
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  return options;
}

function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}

function isOptionalValue(name: FlagName): boolean {
  return (FLAGS[name] as FlagSpec).optionalValue === true;
}

function unknownFlag(
  shown: string,
  command: CommandSpec,
  commands: readonly CommandSpec[],
): UsageError {
  const name = shown.replace(/^-+/, "").split("=")[0];
  const own = [...command.flags, ...GLOBAL_FLAGS];
  const others = commands.flatMap((other) => other.flags).filter((flag) => !own.includes(flag));
  const suggestion = nearest(name, own) ?? nearest(name, others);
  const hint = suggestion
    ? `did you mean "--${suggestion}"?`
    : `run "${helpCommand(command, commands)}" for the flags`;
  return new UsageError(`Unknown flag "${shown}": ${hint}`);
}

function foreignFlag(
  name: FlagName,
  command: CommandSpec,
  commands: readonly CommandSpec[],
): UsageError {
  const owners = commands.filter((other) => other.flags.includes(name)).map((other) =>
    `"${other.name}"`
  );
  return new UsageError(
    `Cannot use "--${name}" with the "${command.name}" command: it is a flag of ${
      owners.join(" and ")
    }: see "${helpCommand(command, commands)}"`,
    { help: commandHelp(command, commands) },
  );
}

function helpCommand(command: CommandSpec, commands: readonly CommandSpec[]): string {
  return command === commands[0] ? `${PROGRAM} --help` : `${PROGRAM} ${command.name} --help`;
}

/**
 * The closest name to a mistyped one, if any is close: a unique name it
 * starts, or one within a few edits.
 *
 * @param typed What the user wrote, without dashes.
 * @param names The candidates.
 * @returns The suggestion, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { nearest } from "./args.ts";
 * console.log(nearest("concurency", ["concurrency", "csv"])); // concurrency
 * ```
 */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  // A unique flag it abbreviates, or one it spells out longer (`--checkpoint-directory`).
  const prefixed = names.filter((name) =>
    lower.length >= 3 && (name.startsWith(lower) || (name.length >= 5 && lower.startsWith(name)))
  );
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const distance = editDistance(lower, name);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.min(3, Math.floor(lower.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(value);
    }
  }
  return rows[a.length][b.length];
}

const SECTIONS: readonly FlagSection[] = [
  "Input",
  "Organizations",
  "Behaviour",
  "Limits",
  "Checkpoints",
  "Output",
  "General",
];

/**
 * A command's `--help`: its usage, its flags by section and its notes; the
 * default command's help also lists the other commands.
 *
 * @param command The command.
 * @param commands All commands; the first is the default.
 * @returns The help text.
 *
 * @example Usage
 * ```ts
 * import { commandHelp } from "./args.ts";
 * const jobs = {
 *   name: "jobs", summary: "list jobs", usage: ["jobs"], flags: ["json"],
 *   run: () => Promise.resolve(0),
 * } as const;
 * console.log(commandHelp(jobs, [jobs]).includes("--json")); // true
 * ```
 */
export function commandHelp(command: CommandSpec, commands: readonly CommandSpec[]): string {
  const isDefault = command === commands[0];
  const lines = [
    isDefault
      ? `${PROGRAM} — import users into WorkOS User Management`
      : `${PROGRAM} ${command.name} — ${command.summary}`,
    "",
    "Usage:",
    ...command.usage.map((line) => `  ${PROGRAM} ${line}`),
  ];
  if (isDefault) {
    lines.push("", "Commands:");
    for (const other of commands) {
      lines.push(`  ${other.name.padEnd(26)}  ${other.summary}`);
    }
    lines.push(`  Run "${PROGRAM} <command> --help" for a command's flags.`);
  }
  const names = [...command.flags, ...GLOBAL_FLAGS];
  for (const section of SECTIONS) {
    const inSection = names.filter((name) => (FLAGS[name] as FlagSpec).section === section);
    if (inSection.length === 0) continue;
    lines.push("", `${section === "General" ? "Other" : section}:`);
    for (const name of inSection) {
      const spec: FlagSpec = FLAGS[name];
      const left = `${spec.short ? `-${spec.short}, ` : ""}--${name}${
        spec.value ? ` ${spec.value}` : ""
      }`;
      lines.push(`  ${left.padEnd(26)}  ${spec.help}`);
    }
  }
  if (command.notes && command.notes.length > 0) lines.push("", ...command.notes);
  return lines.join("\n");
}

/**
 * Reads a whole-number flag.
 *
 * @param flags The parsed flags.
 * @param name The flag's long name.
 * @param options `fallback` when absent, `min` and `max` bounds.
 * @returns The number.
 * @throws {UsageError} When the value is not a whole number within bounds.
 *
 * @example Usage
 * ```ts
 * import { integerFlag } from "./args.ts";
 * console.log(integerFlag({ concurrency: "20" }, "concurrency", { fallback: 10, min: 1 })); // 20
 * ```
 */
export function integerFlag(
  flags: Flags,
  name: keyof Flags,
  options: { fallback: number; min?: number; max?: number },
): number {
  const raw = flags[name];
  if (raw === undefined) return options.fallback;
  const value = Number(raw);
  const min = options.min ?? 0;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof raw !== "string" || !/^\d+$/.test(raw.trim()) || value < min || value > max) {
    const range = options.max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(
      `Cannot use "--${name}": "${raw}" is not a whole number ${range}`,
    );
  }
  return value;
}

/**
 * Reads a positive number flag (fractions allowed).
 *
 * @param flags The parsed flags.
 * @param name The flag's long name.
 * @param fallback The value when absent.
 * @returns The number.
 * @throws {UsageError} When the value is not a positive number.
 *
 * @example Usage
 * ```ts
 * import { numberFlag } from "./args.ts";
 * console.log(numberFlag({ "rate-limit": "12.5" }, "rate-limit", 50)); // 12.5
 * ```
 */
export function numberFlag(flags: Flags, name: keyof Flags, fallback: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`Cannot use "--${name}": "${raw}" is not a positive number`);
  }
  return value;
}

/**
 * Reads a duration flag: `90s`, `15m`, `2h`, `1h30m`, or a number of seconds.
 *
 * @param flags The parsed flags.
 * @param name The flag's long name.
 * @param fallbackMs The value when absent, in milliseconds.
 * @returns The duration in milliseconds.
 * @throws {UsageError} When the value is not a duration.
 *
 * @example Usage
 * ```ts
 * import { durationFlag } from "./args.ts";
 * console.log(durationFlag({ "max-outage": "1h30m" }, "max-outage", 0)); // 5400000
 * console.log(durationFlag({ "max-outage": "90" }, "max-outage", 0)); // 90000
 * ```
 */
export function durationFlag(flags: Flags, name: keyof Flags, fallbackMs: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallbackMs;
  const text = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
  let ms = Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(text)) {
    ms = 0;
    for (const [, value, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|h|m|s)/g)) {
      ms += Number(value) * units[unit];
    }
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new UsageError(
      `Cannot use "--${name}": "${raw}" is not a duration: use e.g. 90s, 15m, 2h or a number of seconds`,
    );
  }
  return Math.round(ms);
}
