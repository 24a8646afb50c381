/**
 * `workos-importer verify-login <file>`: the login canary. Signs each test
 * account of a CSV (`email,password`) or NDJSON file in through WorkOS's
 * password authentication and reports, per account, whether the imported
 * hash works. Each account is tried once (retries only for transient
 * failures, at most 5), well within WorkOS's 10 sign-ins per 60 seconds per
 * email; passwords are never printed.
 *
 * @module
 */

import { type CommandSpec, type Flags, integerFlag, numberFlag } from "./args.ts";
import { type Console, envFileHint, readSecretKey } from "./environment.ts";
import { ExitCode, UsageError } from "./usage_error.ts";
import { openInput } from "../input/open_input.ts";
import { normalizeEmail } from "../validation/email.ts";
import { WorkOSClient } from "../workos/client.ts";
import { signInWithPassword } from "../workos/authentication.ts";
import { RateBudget } from "../limits/rate_budget.ts";

/** The most accounts one run signs in: a canary, not a load test. */
export const MAX_CANARY_ACCOUNTS = 1_000;

/** `workos-importer verify-login <file>`. */
export const verifyLoginCommand: CommandSpec = {
  name: "verify-login",
  summary: "sign test accounts in with their passwords: prove imported hashes",
  usage: ["verify-login <file> [--client-id <id>] [--json]"],
  flags: ["format", "client-id", "api-url", "max-retries", "request-timeout", "rate-limit", "json"],
  notes: [
    "The file: CSV with the columns email,password (or NDJSON with those fields) of test",
    "accounts you control. Each is signed in once through WorkOS password authentication.",
    "Environment: WORKOS_SECRET_KEY (or a .env file), WORKOS_CLIENT_ID, WORKOS_API_URL.",
    "Exit codes: 0 every account signed in, 1 one did not, 2 usage or input error.",
  ],
  run: ({ flags, positionals, console }) => runVerifyLoginCommand(positionals, flags, console),
};

/** One account's result, as printed and in `--json`. */
export interface CanaryResult {
  /** The account's row in the file. */
  row: number;
  email: string;
  ok: boolean;
  /** What happened, in a sentence; never the password. */
  detail: string;
}

interface Account {
  row: number;
  email: string;
  password?: string;
  problem?: string;
}

/**
 * Runs `verify-login` from parsed flags.
 *
 * @param positionals The arguments after `verify-login`: the file.
 * @param flags The parsed flags.
 * @param console Where lines go.
 * @returns 0 when every account signed in, 1 when one did not, 2 for usage errors.
 *
 * @example Usage
 * ```ts ignore
 * const code = await runVerifyLoginCommand(["canary.csv"], {}, systemConsole);
 * ```
 */
export async function runVerifyLoginCommand(
  positionals: readonly string[],
  flags: Flags,
  console: Console,
): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'Cannot verify logins: no file given: run "workos-importer verify-login <file>" ' +
          "with a CSV of email,password test accounts"
        : `Cannot verify logins: give one file, not ${positionals.length}`,
    );
  }
  const path = positionals[0];
  const format = flags.format;
  if (format !== undefined && format !== "csv" && format !== "ndjson") {
    throw new UsageError(`Cannot use "--format": "${format}" is not csv or ndjson`);
  }
  const clientId = flags["client-id"] ?? readOptionalEnv("WORKOS_CLIENT_ID");
  if (!clientId) {
    throw new UsageError(
      "Cannot verify logins: no client ID: set WORKOS_CLIENT_ID or add --client-id client_… " +
        "(WorkOS dashboard → API Keys)",
    );
  }
  const apiKey = readSecretKey();
  if (!apiKey) {
    throw new UsageError(
      "WORKOS_SECRET_KEY is missing: set it in the environment or in a .env file" + envFileHint(),
    );
  }
  const apiUrl = flags["api-url"] ?? readOptionalEnv("WORKOS_API_URL");
  if (apiUrl !== undefined) {
    try {
      const url = new URL(apiUrl);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError();
    } catch {
      throw new UsageError(`Cannot use API URL "${apiUrl}": it is not an http(s) URL`);
    }
  }
  const accounts = await readAccounts(path, format);
  const json = flags.json === true;
  const say = json ? console.error : console.log;

  const client = new WorkOSClient({
    apiKey,
    apiUrl,
    budget: new RateBudget({ writesPerSecond: numberFlag(flags, "rate-limit", 10) }),
    // Every attempt counts against the 10 per 60 s per email: at most 6 per run.
    maxRetries: integerFlag(flags, "max-retries", { fallback: 3, min: 0, max: 5 }),
    requestTimeoutMs: numberFlag(flags, "request-timeout", 30) * 1000,
  });
  const tried = accounts.filter((account) => account.problem === undefined).length;
  say(
    `Signing in ${tried} test account${tried === 1 ? "" : "s"} with WorkOS password ` +
      "authentication (one attempt each; WorkOS allows 10 per minute per email)",
  );
  const results: CanaryResult[] = [];
  for (const account of accounts) {
    const result = await verifyAccount(client, clientId, account);
    results.push(result);
    say(
      `${result.ok ? "✓" : "✗"} Row ${result.row} ${
        result.email || "(no email)"
      }: ${result.detail}`,
    );
  }
  const passed = results.filter((result) => result.ok).length;
  say(`${passed} of ${results.length} account${results.length === 1 ? "" : "s"} signed in`);
  if (passed < results.length) {
    say(
      "Accounts that did not sign in: check their hash and type (see docs/passwords.md) " +
        "before importing the rest",
    );
  }
  if (json) {
    console.log(JSON.stringify({
      status: passed === results.length ? "success" : "failed",
      accounts: results.length,
      signedIn: passed,
      failed: results.length - passed,
      results,
    }));
  }
  return passed === results.length && results.length > 0 ? ExitCode.Success : ExitCode.Failure;
}

async function verifyAccount(
  client: WorkOSClient,
  clientId: string,
  account: Account,
): Promise<CanaryResult> {
  const base = { row: account.row, email: account.email };
  if (account.problem !== undefined || account.password === undefined) {
    return { ...base, ok: false, detail: account.problem ?? '"password" is empty' };
  }
  const result = await signInWithPassword(client, {
    clientId,
    email: account.email,
    password: account.password,
  });
  if (!result.ok) return { ...base, ok: false, detail: result.reason };
  if (result.nextStep) {
    return {
      ...base,
      ok: true,
      detail: `password accepted; WorkOS asks for ${result.nextStep} next`,
    };
  }
  return { ...base, ok: true, detail: `signed in${result.userId ? ` as ${result.userId}` : ""}` };
}

async function readAccounts(
  path: string,
  format: "csv" | "ndjson" | undefined,
): Promise<Account[]> {
  const input = await openInput(path, { format });
  if (
    input.format === "csv" &&
    (!input.columns.includes("email") || !input.columns.includes("password"))
  ) {
    await input.records.cancel();
    throw new UsageError(
      `Cannot verify logins: "${path}" needs the columns email and password: ` +
        'start the file with the line "email,password"',
    );
  }
  const accounts: Account[] = [];
  const seen = new Set<string>();
  for await (const batch of input.records) {
    for (const record of batch) {
      if (accounts.length >= MAX_CANARY_ACCOUNTS) {
        throw new UsageError(
          `Cannot verify logins: "${path}" has more than ${MAX_CANARY_ACCOUNTS} accounts: ` +
            "a canary is a few test accounts you control",
        );
      }
      const row = record.recordNumber;
      const rawEmail = typeof record.fields.email === "string" ? record.fields.email.trim() : "";
      const password = typeof record.fields.password === "string" && record.fields.password !== ""
        ? record.fields.password
        : undefined;
      if (record.parseError !== undefined) {
        accounts.push({ row, email: rawEmail, problem: "the row cannot be read: fix its quoting" });
        continue;
      }
      const normalized = normalizeEmail(rawEmail);
      if (rawEmail === "" || !normalized.ok) {
        accounts.push({
          row,
          email: rawEmail,
          problem: rawEmail === ""
            ? '"email" is missing: add the account\'s email'
            : `"email" is not a valid address: correct it`,
        });
        continue;
      }
      if (seen.has(normalized.key)) {
        accounts.push({
          row,
          email: normalized.email,
          problem: "listed twice: each account is tried once per run " +
            "(WorkOS allows 10 sign-ins per minute per email)",
        });
        continue;
      }
      seen.add(normalized.key);
      accounts.push({
        row,
        email: normalized.email,
        password,
        problem: password === undefined
          ? '"password" is empty: add the account\'s password'
          : undefined,
      });
    }
  }
  if (accounts.length === 0) {
    throw new UsageError(
      `Cannot verify logins: "${path}" has no accounts: add email,password rows`,
    );
  }
  return accounts;
}

/** An environment variable, or `undefined` when unset or not permitted (a narrow binary). */
function readOptionalEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
