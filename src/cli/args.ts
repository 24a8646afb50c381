/**
 * Command-line flags: their definitions, parsing and checks, in one place so
 * that `--help` and the parser can never disagree.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "./usage_error.ts";

/** The subcommands; `import` is what runs when none is named. */
export const COMMANDS = ["import", "validate", "jobs", "status", "clean", "undo"] as const;

/** A subcommand name. */
export type Command = typeof COMMANDS[number];

const FLAGS = {
  "csv": { type: "string" },
  "input": { type: "string" },
  "format": { type: "string" },
  "user-export": { type: "string" },
  "errors-out": { type: "string" },
  "quiet": { type: "boolean" },
  "concurrency": { type: "string" },
  "org-id": { type: "string" },
  "org-external-id": { type: "string" },
  "create-org-if-missing": { type: "boolean" },
  "org-name": { type: "string" },
  "require-membership": { type: "boolean" },
  "dry-run": { type: "boolean" },
  "plan": { type: "boolean" },
  "report": { type: "string" },
  "api-url": { type: "string" },
  "rate-limit": { type: "string" },
  "max-retries": { type: "string" },
  "request-timeout": { type: "string" },
  "json": { type: "boolean" },
  "job-id": { type: "string" },
  "resume": { type: "string" },
  "chunk-size": { type: "string" },
  "checkpoint-dir": { type: "string" },
  "allow-changed-input": { type: "boolean" },
  "on-existing": { type: "string" },
  "invite": { type: "boolean" },
  "invite-expires-days": { type: "string" },
  "invite-rate": { type: "string" },
  "audit-out": { type: "string" },
  "audit-file": { type: "string" },
  "help": { type: "boolean", short: "h" },
  "version": { type: "boolean", short: "V" },
} as const;

/** The flags as given, keyed by their long name. */
export type Flags = {
  [K in keyof typeof FLAGS]?: typeof FLAGS[K]["type"] extends "boolean" ? boolean : string;
};

/** A parsed command line. */
export interface ParsedArgs {
  command: Command;
  /** Positional arguments after the command. */
  positionals: string[];
  flags: Flags;
}

/** Marks a bare `--resume` (resume the most recent job). */
export const RESUME_LATEST = "";

/**
 * Parses a command line.
 *
 * @param args The arguments, without the program name.
 * @returns The command, positionals and flags.
 * @throws {UsageError} For unknown flags or missing values.
 *
 * @example Usage
 * ```ts
 * import { parseCommandLine } from "./args.ts";
 * const parsed = parseCommandLine(["--csv", "users.csv", "--dry-run"]);
 * console.log(parsed.command, parsed.flags.csv, parsed.flags["dry-run"]); // import users.csv true
 * ```
 */
export function parseCommandLine(args: readonly string[]): ParsedArgs {
  // `--resume` takes an optional job id, which parseArgs cannot express.
  const normalized: string[] = [];
  for (let i = 0; i < args.length; i++) {
    normalized.push(args[i]);
    if (args[i] === "--resume" && (i + 1 >= args.length || args[i + 1].startsWith("-"))) {
      normalized.push(RESUME_LATEST);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${flagMessage(error)}: run "workos-importer --help" for the flags`);
  }
  const positionals = [...parsed.positionals];
  let command: Command = "import";
  if (positionals.length > 0 && (COMMANDS as readonly string[]).includes(positionals[0])) {
    command = positionals.shift() as Command;
  }
  return { command, positionals, flags: parsed.values as Flags };
}

function flagMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `Unknown flag "${unknown[1]}"`;
  const missing = message.match(/Option '([^']+?)(?: <value>)?' argument missing/);
  if (missing) return `Flag "${missing[1].split(",").pop()?.trim()}" needs a value`;
  const positional = message.match(/Unexpected argument '([^']+)'/);
  if (positional) return `Unexpected argument "${positional[1]}"`;
  return message.replace(/\.$/, "");
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

/** The `--help` text. */
export const HELP = `workos-importer — import users into WorkOS User Management

Usage:
  workos-importer --csv <path|-> [options]          import users
  workos-importer validate <file> [--report r.json] check every row, write nothing
  workos-importer jobs                              list checkpointed jobs
  workos-importer status <job-id> [--json]          show one job
  workos-importer clean <job-id>                    delete a job's checkpoint
  workos-importer undo <job-id> [--dry-run]         take a job back from its audit log
  workos-importer undo --audit-file <path>          take back a run recorded with --audit-out

Input:
  --csv <path|->              CSV file, or - for standard input
  --input <path|->            CSV or NDJSON file (format from the extension or first byte)
  --format csv|ndjson         force the input format
  --user-export <path>        deprecated alias of --csv

Organizations:
  --org-id <id>               every user joins this organization
  --org-external-id <id>      every user joins the organization with this external id
  --create-org-if-missing     create it when missing (needs --org-name)
  --org-name <name>           name of the organization to create
  --require-membership        delete a user this run created when its membership fails
  (no flags, org_id/org_external_id columns: each row names its organization)

Behaviour:
  --dry-run                   parse, validate and plan; no API call
  --plan                      read-only prediction against the live tenant
  --report <path>             where validate/--plan write their JSON report
  --on-existing skip|update|error   existing users: adopt (default), update, or fail the row
  --invite                    send invitations instead of creating users
  --invite-expires-days <n>   invitation lifetime (7)
  --invite-rate <n>           invitations per second (10)
  --concurrency <n>           rows in flight (10)
  --rate-limit <n>            user-management writes per second (50; reads get twice that)
  --max-retries <n>           retries of a transient failure (5)
  --request-timeout <s>       seconds before a request counts as failed (30)
  --api-url <url>             WorkOS API location (WORKOS_API_URL, https://api.workos.com)

Checkpoints:
  --job-id <id>               start a checkpointed, resumable job
  --resume [job-id]           continue a job (no id: the most recent)
  --chunk-size <n>            rows committed together (1000)
  --checkpoint-dir <path>     where jobs live (.workos-checkpoints)
  --allow-changed-input       resume although the input file changed

Output:
  --errors-out <path>         failed rows: .csv, .json or .jsonl
  --audit-out <path>          append every write to this audit log (a job keeps its own)
  --quiet                     no per-row lines
  --json                      the summary as one JSON object on stdout
  -h, --help                  this text
  -V, --version               the version

Environment: WORKOS_SECRET_KEY (or a .env file), WORKOS_API_URL, NO_COLOR.
Exit codes: 0 success, 1 completed with errors or failed, 2 usage or input error, 130 interrupted.`;
