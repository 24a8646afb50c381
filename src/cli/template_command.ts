/**
 * `workos-importer template [users|organizations|memberships|package]`:
 * prints a blank CSV template with the columns the importer reads and a
 * commented example row, ready to redirect into a file and fill in.
 *
 * @module
 */

import type { CommandSpec, Flags } from "./args.ts";
import type { Console } from "./environment.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { INPUT_COLUMNS } from "../validation/columns.ts";

/** The templates `template` prints. */
export const TEMPLATE_KINDS = ["users", "organizations", "memberships", "package"] as const;

/** One of {@linkcode TEMPLATE_KINDS}. */
export type TemplateKind = typeof TEMPLATE_KINDS[number];

/** An example value for each column the importer reads. */
const EXAMPLE: Record<string, string> = {
  email: "ada@example.com",
  first_name: "Ada",
  last_name: "Lovelace",
  name: "",
  password: "",
  password_hash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
  password_hash_type: "bcrypt",
  email_verified: "true",
  external_id: "user-0001",
  metadata: '{"plan":"pro"}',
  org_id: "",
  org_external_id: "acme",
  org_name: "Acme Inc.",
  role_slug: "admin",
  role_slugs: "",
  totp_secret: "JBSWY3DPEHPK3PXP",
};

const MEMBERSHIP_COLUMNS = [
  "email",
  "external_id",
  "org_id",
  "org_external_id",
  "org_name",
  "role_slug",
];
const ORGANIZATION_COLUMNS = ["org_id", "org_external_id", "org_name"];

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** What a template prints: the file on stdout, notes on stderr. */
export interface Template {
  /** The header, then a `#` example row (delete it before importing). */
  lines: string[];
  /** What the file is and how to use it. */
  notes: string[];
}

function csvBlock(columns: readonly string[]): string[] {
  const example = columns.map((column) => csvCell(EXAMPLE[column] ?? "")).join(",");
  return [columns.join(","), `# ${example}`];
}

const DELETE = "The # line is an example row: replace it with yours.";

/**
 * A template: the header is the columns the importer reads, the `#` line an
 * example row; the notes say what the file is.
 *
 * @param kind Which template.
 * @returns The file's lines and the notes.
 *
 * @example The users template
 * ```ts
 * import { templateOf } from "./template_command.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const { lines } = templateOf("users");
 * ok(lines[0].startsWith("email,first_name,last_name"));
 * ok(lines[1].startsWith("# ada@example.com,Ada,Lovelace"));
 * equal(lines.length, 2);
 * ```
 */
export function templateOf(kind: TemplateKind): Template {
  switch (kind) {
    case "users":
      return {
        lines: csvBlock(INPUT_COLUMNS),
        notes: [
          'Users: one row per user (and per organization the user joins); only "email" is required.',
          "Import it with: workos-importer --csv users.csv --dry-run",
          DELETE,
        ],
      };
    case "memberships":
      return {
        lines: csvBlock(MEMBERSHIP_COLUMNS),
        notes: [
          "Memberships: a row per user and organization, imported like users (--csv memberships.csv).",
          "Name the organization by org_id (a WorkOS id) or org_external_id; org_name creates it when missing.",
          DELETE,
        ],
      };
    case "organizations":
      return {
        lines: csvBlock(ORGANIZATION_COLUMNS),
        notes: [
          "Organizations come from the users file: the first row that names an org_external_id with an",
          "org_name creates it. These are those columns: add them to the users file, next to each email.",
        ],
      };
    case "package":
      return {
        lines: csvBlock(INPUT_COLUMNS),
        notes: [
          "A migration package's users.csv (docs/sources/README.md). This build imports it with --csv;",
          "it does not read a whole package directory yet.",
          DELETE,
        ],
      };
  }
}

/**
 * Runs `template` from parsed arguments.
 *
 * @param positionals The kind (`users` when absent).
 * @param _flags The parsed flags.
 * @param console Where the template goes.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts ignore
 * await runTemplateCommand(["users"], {}, systemConsole);
 * ```
 */
export function runTemplateCommand(
  positionals: readonly string[],
  _flags: Flags,
  console: Console,
): Promise<number> {
  if (positionals.length > 1) {
    throw new UsageError(`Unexpected argument "${positionals[1]}": "template" takes one kind`);
  }
  const kind = positionals[0] ?? "users";
  if (!(TEMPLATE_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(
      `Cannot print template "${kind}": use ${TEMPLATE_KINDS.join(", ")}`,
    );
  }
  const template = templateOf(kind as TemplateKind);
  for (const note of template.notes) console.error(note);
  for (const line of template.lines) console.log(line);
  return Promise.resolve(ExitCode.Success);
}

/** `workos-importer template [users|organizations|memberships|package]`. */
export const templateCommand: CommandSpec = {
  name: "template",
  summary: "print a blank CSV template with the columns the importer reads",
  usage: ["template [users|organizations|memberships|package] > users.csv"],
  flags: [],
  run: ({ flags, positionals, console }) => runTemplateCommand(positionals, flags, console),
};
