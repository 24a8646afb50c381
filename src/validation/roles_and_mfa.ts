/**
 * The membership-role and MFA columns of a row: `role_slug` or `role_slugs`
 * (several roles), and `totp_secret` with `totp_issuer` and `totp_user`.
 *
 * @module
 */

/** What the row reader offers the readers of this module. */
export interface RowFields {
  /** A trimmed text value; `undefined` when absent or blank (type problems are failed). */
  text(column: string): string | undefined;
  /** The value as parsed. */
  raw(column: string): unknown;
  /** A secret kept as written; `undefined` when empty. */
  secret(column: string, trim: boolean): string | undefined;
  /** Fails the row on `column` with `detail` (after "Cannot import row N: "). */
  fail(column: string, detail: string): void;
  /** Warns about `column`. */
  warn(column: string, message: string): void;
  /** The row's number, for warnings. */
  readonly recordNumber: number;
}

/**
 * WorkOS's rule for role slugs (reference/roles): lowercase letters,
 * numbers, hyphens and underscores. Organization roles begin with `org-`.
 *
 * @example Check a slug
 * ```ts
 * import { ROLE_SLUG_PATTERN } from "./roles_and_mfa.ts";
 * import { ok } from "node:assert/strict";
 *
 * ok(ROLE_SLUG_PATTERN.test("org-billing_admin"));
 * ok(!ROLE_SLUG_PATTERN.test("Admin"));
 * ```
 */
export const ROLE_SLUG_PATTERN: RegExp = /^[a-z0-9_-]+$/;

/**
 * Why a role slug cannot exist in WorkOS, as the end of a row error; or
 * `undefined` for a slug that can.
 *
 * @param slug The slug as written.
 * @param column The column it came from.
 * @returns The problem and how to fix it, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { roleSlugProblem } from "./roles_and_mfa.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(roleSlugProblem("admin", "role_slug"), undefined);
 * equal(
 *   roleSlugProblem("Admin", "role_slug"),
 *   '"role_slug" has "Admin", which is not a role slug: slugs are lower case: use "admin"',
 * );
 * ```
 */
export function roleSlugProblem(slug: string, column: string): string | undefined {
  if (ROLE_SLUG_PATTERN.test(slug)) return undefined;
  const quoted = JSON.stringify(slug);
  const lower = slug.toLowerCase();
  if (ROLE_SLUG_PATTERN.test(lower)) {
    return `"${column}" has ${quoted}, which is not a role slug: slugs are lower case: use ${
      JSON.stringify(lower)
    }`;
  }
  return `"${column}" has ${quoted}, which is not a role slug: use only lowercase letters, digits, "-" and "_" (the role's slug, not its name)`;
}

/**
 * Reads `role_slug` and `role_slugs`. `role_slugs` is a list: comma-separated
 * text, a JSON array in text, or (NDJSON) an array. Giving both is an error:
 * WorkOS takes one or the other.
 *
 * @param fields The row.
 * @returns One role (`roleSlug`), several (`roleSlugs`), or neither.
 *
 * @example Usage
 * ```ts ignore
 * const { roleSlug, roleSlugs } = readRoles(check);
 * ```
 */
export function readRoles(fields: RowFields): { roleSlug?: string; roleSlugs?: string[] } {
  const single = fields.text("role_slug");
  const list = readRoleList(fields);
  if (single !== undefined && list !== undefined) {
    fields.fail(
      "role_slugs",
      '"role_slug" and "role_slugs" are both set: keep one (put every role in "role_slugs")',
    );
    return {};
  }
  if (single !== undefined) {
    const problem = roleSlugProblem(single, "role_slug");
    if (problem) {
      fields.fail("role_slug", problem);
      return {};
    }
    return { roleSlug: single };
  }
  return list === undefined ? {} : { roleSlugs: list };
}

function readRoleList(fields: RowFields): string[] | undefined {
  const raw = fields.raw("role_slugs");
  if (raw === undefined || raw === null) return undefined;
  let items: unknown[];
  if (Array.isArray(raw)) {
    items = raw;
  } else if (typeof raw === "string") {
    const text = raw.trim();
    if (text === "") return undefined;
    if (text.startsWith("[")) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (!Array.isArray(parsed)) throw new TypeError();
        items = parsed;
      } catch {
        fields.fail(
          "role_slugs",
          '"role_slugs" starts with "[" but is not a JSON array: write ["admin","billing"] or admin,billing',
        );
        return undefined;
      }
    } else {
      items = text.split(",");
    }
  } else {
    fields.fail(
      "role_slugs",
      '"role_slugs" must be a list of role slugs: write admin,billing or ["admin","billing"]',
    );
    return undefined;
  }
  const slugs: string[] = [];
  for (const item of items) {
    if (typeof item !== "string") {
      fields.fail(
        "role_slugs",
        `"role_slugs" has ${JSON.stringify(item)}, which is not text: list role slugs only`,
      );
      return undefined;
    }
    const slug = item.trim();
    if (slug === "") continue;
    const problem = roleSlugProblem(slug, "role_slugs");
    if (problem) {
      fields.fail("role_slugs", problem);
      return undefined;
    }
    if (slugs.includes(slug)) {
      fields.warn(
        "role_slugs",
        `Row ${fields.recordNumber}: "role_slugs" lists ${JSON.stringify(slug)} twice: sent once`,
      );
      continue;
    }
    slugs.push(slug);
  }
  return slugs.length > 0 ? slugs : undefined;
}

/** A TOTP factor to enroll. */
export interface TotpFactor {
  /** The Base32 secret, normalized: upper case, no spaces, no padding. */
  secret: string;
  /** Shown in authenticator apps; the import's `--totp-issuer` when absent. */
  issuer?: string;
  /** The account name shown in authenticator apps; WorkOS uses the email when absent. */
  user?: string;
}

const BASE32 = /^[A-Z2-7]+$/;
// Base32 of whole bytes has 0, 2, 4, 5 or 7 characters past the last full
// group of eight; any other count is a cut-off secret.
const WHOLE_BYTES: ReadonlySet<number> = new Set([0, 2, 4, 5, 7]);
/** The fewest bits a secret may have: 80 (16 characters), the common minimum of authenticator apps. */
const MIN_SECRET_BITS = 80;

/**
 * Why a TOTP secret cannot work with WorkOS's parameters (SHA-1, 6 digits,
 * 30 s), as the end of a row error; `undefined` when it can. Never quotes
 * the secret.
 *
 * @param secret The secret, normalized (upper case, no spaces or padding).
 * @returns The problem and how to fix it, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { totpSecretProblem } from "./roles_and_mfa.ts";
 * import { equal, match } from "node:assert/strict";
 *
 * equal(totpSecretProblem("JBSWY3DPEHPK3PXP"), undefined);
 * match(totpSecretProblem("JBSWY3DP") ?? "", /too short/);
 * match(totpSecretProblem("not-base32!") ?? "", /not Base32/);
 * ```
 */
export function totpSecretProblem(secret: string): string | undefined {
  if (secret.startsWith("OTPAUTH:")) {
    return '"totp_secret" is an otpauth:// URI: give only its "secret" parameter (Base32)';
  }
  if (!BASE32.test(secret)) {
    return '"totp_secret" is not Base32 (letters A-Z and digits 2-7): give the shared secret Base32-encoded (convert a hex secret first)';
  }
  if (!WHOLE_BYTES.has(secret.length % 8)) {
    return `"totp_secret" has ${secret.length} characters, which no Base32 secret has: it looks cut off: export the full secret`;
  }
  const bits = Math.floor(secret.length * 5 / 8) * 8;
  if (bits < MIN_SECRET_BITS) {
    return `"totp_secret" is too short (${bits} bits): a TOTP secret has at least ${MIN_SECRET_BITS} bits (16 Base32 characters): export the full secret`;
  }
  return undefined;
}

/**
 * Reads `totp_secret`, `totp_issuer` and `totp_user`. The secret is
 * normalized (spaces removed, upper case, padding dropped) and checked.
 *
 * @param fields The row.
 * @returns The factor to enroll, or `undefined`.
 *
 * @example Usage
 * ```ts ignore
 * const totp = readTotp(check);
 * ```
 */
export function readTotp(fields: RowFields): TotpFactor | undefined {
  const raw = fields.secret("totp_secret", true);
  const issuer = fields.text("totp_issuer");
  const user = fields.text("totp_user");
  if (raw === undefined) {
    for (const [column, value] of [["totp_issuer", issuer], ["totp_user", user]] as const) {
      if (value !== undefined) {
        fields.warn(
          column,
          `Ignoring "${column}" on row ${fields.recordNumber}: "totp_secret" is empty`,
        );
      }
    }
    return undefined;
  }
  const secret = raw.replace(/[\s-]+/g, "").toUpperCase().replace(/=+$/, "");
  const problem = totpSecretProblem(secret);
  if (problem) {
    fields.fail("totp_secret", problem);
    return undefined;
  }
  const factor: TotpFactor = { secret };
  if (issuer !== undefined) factor.issuer = issuer;
  if (user !== undefined) factor.user = user;
  return factor;
}
