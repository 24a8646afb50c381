// Tells what an input looks like from its first bytes, so that a file given
// with the wrong --from gets a message naming what it is instead.

/** The kinds of file a first look can tell apart. */
export type Looks =
  | { kind: "auth0" | "firebase" | "clerk" | "supabase" | "cognito" | "supertokens" }
  | { kind: "importer-csv" | "importer-ndjson" }
  | { kind: "json" | "csv" | "empty" };

const DESCRIPTIONS: Record<Looks["kind"], string> = {
  auth0: "an Auth0 user export: use --from auth0",
  firebase: 'a Firebase "auth:export" file: use --from firebase',
  clerk: "a Clerk user export: use --from clerk",
  supabase: 'a Supabase "auth.users" export: use --from supabase',
  cognito: 'an "aws cognito-idp list-users" file: use --from cognito',
  supertokens: "a SuperTokens bulk-import file: use --from supertokens",
  "importer-csv": "the importer's own CSV: leave out --from",
  "importer-ndjson": "the importer's own NDJSON: leave out --from",
  json: "JSON of another shape",
  csv: "a CSV file",
  empty: "an empty file",
};

/** How a {@linkcode Looks} reads in a message. */
export function describeLooks(looks: Looks): string {
  return DESCRIPTIONS[looks.kind];
}

/** What the first bytes of an input look like. */
export function sniff(head: string): Looks {
  const text = head.replace(/^\uFEFF/, "");
  const first = text.trimStart()[0];
  if (first === undefined) return { kind: "empty" };
  if (first === "{" || first === "[") {
    if (/"localId"\s*:/.test(text)) return { kind: "firebase" };
    if (/"loginMethods"\s*:/.test(text)) return { kind: "supertokens" };
    if (/"Username"\s*:/.test(text) && /"Attributes"\s*:/.test(text)) return { kind: "cognito" };
    if (/"encrypted_password"\s*:|"raw_user_meta_data"\s*:/.test(text)) {
      return { kind: "supabase" };
    }
    if (/"user_id"\s*:\s*"[\w-]+\|/.test(text)) return { kind: "auth0" };
    if (/^\s*\{[^\n]*"email"\s*:/.test(text)) return { kind: "importer-ndjson" };
    return { kind: "json" };
  }
  const header = text.split(/\r?\n/, 1)[0].toLowerCase();
  const columns = header.split(",").map((column) => column.trim().replace(/^"|"$/g, ""));
  if (columns.includes("password_digest") || columns.includes("primary_email_address")) {
    return { kind: "clerk" };
  }
  if (columns.includes("encrypted_password") || columns.includes("raw_user_meta_data")) {
    return { kind: "supabase" };
  }
  if (columns.includes("email")) return { kind: "importer-csv" };
  return { kind: "csv" };
}
