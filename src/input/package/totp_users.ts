/**
 * Which users of a migration package get a TOTP factor: the emails of
 * `totp_secrets.csv` that are users of `users.csv`, for the dry run's and the
 * plan's counts. Only emails are kept, never a secret.
 *
 * @module
 */

import { openCsvFile } from "./_csv_file.ts";
import type { PackageFacts } from "./layout.ts";

/**
 * The emails (lower case) of the package's TOTP secrets whose user is in
 * `users.csv`, in `users.csv` order, each once.
 *
 * @param facts The checked package.
 * @returns The emails.
 *
 * @example Count the factors a package would enroll
 * ```ts
 * import { checkPackage } from "./layout.ts";
 * import { totpUsers } from "./totp_users.ts";
 *
 * const dir = new URL("../../../tests/fixtures/package", import.meta.url).pathname;
 * const emails = await totpUsers(await checkPackage(dir));
 * console.log(emails.length); // 2
 * ```
 */
export async function totpUsers(facts: PackageFacts): Promise<string[]> {
  const secretsPath = facts.paths.totpSecrets;
  const usersPath = facts.paths.users;
  if (secretsPath === undefined || usersPath === undefined || facts.counts.totpSecrets === 0) {
    return [];
  }
  const secrets = new Set<string>();
  const secretsFile = await openCsvFile(secretsPath);
  for await (const row of secretsFile.rows()) {
    const email = String(row.fields.email ?? "").trim().toLowerCase();
    const secret = String(row.fields.totp_secret ?? "").trim();
    if (email !== "" && secret !== "") secrets.add(email);
  }
  const joined: string[] = [];
  const users = await openCsvFile(usersPath);
  for await (const row of users.rows()) {
    const email = String(row.fields.email ?? "").trim().toLowerCase();
    if (secrets.delete(email)) joined.push(email);
  }
  return joined;
}
