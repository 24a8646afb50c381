import { deepEqual, equal, ok } from "node:assert/strict";
import type { SourceRecord, UserRow, ValidationIssue } from "../src/types.ts";
import { SAMPLE_HASHES } from "./_password_hashes.ts";
import {
  MAX_EXTERNAL_ID_LENGTH,
  PASSWORD_HASH_TYPES,
  type RecordValidation,
  validateRecord,
} from "../src/validation/validate_record.ts";

function record(fields: Record<string, unknown>, recordNumber = 7): SourceRecord {
  return { recordNumber, fields, byteEnd: 1000 + recordNumber };
}

function valid(fields: Record<string, unknown>): { row: UserRow; warnings: ValidationIssue[] } {
  const result = validateRecord(record(fields));
  if (!result.ok) throw new Error(`Expected a valid row: ${JSON.stringify(result.issues)}`);
  return result;
}

function invalid(fields: Record<string, unknown>): Extract<RecordValidation, { ok: false }> {
  const result = validateRecord(record(fields));
  if (result.ok) throw new Error(`Expected an invalid row: ${JSON.stringify(result.row)}`);
  return result;
}

function messages(fields: Record<string, unknown>): string[] {
  return invalid(fields).issues.map((issue) => issue.message);
}

Deno.test("validateRecord() maps every column of a full CSV row", () => {
  const { row, warnings } = valid({
    email: "  Ada@Example.com ",
    first_name: " Ada ",
    last_name: "Lovelace",
    name: "",
    password: " secret with spaces ",
    password_hash: "",
    password_hash_type: "bcrypt",
    email_verified: "YES",
    external_id: " ext-1 ",
    metadata: '{"plan":"pro"}',
    org_id: "",
    org_external_id: "acme",
    org_name: " Acme Inc ",
    role_slug: " admin ",
  });
  deepEqual(warnings, []);
  deepEqual(row, {
    recordNumber: 7,
    byteEnd: 1007,
    email: "Ada@Example.com",
    emailKey: "ada@example.com",
    firstName: "Ada",
    lastName: "Lovelace",
    password: " secret with spaces ",
    emailVerified: true,
    externalId: "ext-1",
    metadata: { plan: "pro" },
    organization: { kind: "external_id", externalId: "acme", name: "Acme Inc" },
    roleSlug: "admin",
    original: {
      email: "Ada@Example.com",
      first_name: "Ada",
      last_name: "Lovelace",
      name: "",
      password: " secret with spaces ",
      password_hash: "",
      password_hash_type: "bcrypt",
      email_verified: "YES",
      external_id: "ext-1",
      metadata: '{"plan":"pro"}',
      org_id: "",
      org_external_id: "acme",
      org_name: "Acme Inc",
      role_slug: "admin",
    },
  });
});

Deno.test("validateRecord() leaves out what a row does not set", () => {
  const { row } = valid({ email: "a@example.com", first_name: "", metadata: " " });
  deepEqual(row, {
    recordNumber: 7,
    byteEnd: 1007,
    email: "a@example.com",
    emailKey: "a@example.com",
    original: { email: "a@example.com", first_name: "", metadata: "" },
  });
});

Deno.test("validateRecord() splits name when first_name or last_name is absent", () => {
  deepEqual(pick(valid({ email: "a@example.com", name: " Ada  King Lovelace " }).row), [
    "Ada",
    "King Lovelace",
  ]);
  deepEqual(pick(valid({ email: "a@example.com", name: "Cher" }).row), ["Cher", undefined]);
  deepEqual(pick(valid({ email: "a@example.com", name: "Ada Lovelace", first_name: "A." }).row), [
    "A.",
    "Lovelace",
  ]);
  deepEqual(pick(valid({ email: "a@example.com", name: "Ada Lovelace", last_name: "L" }).row), [
    "Ada",
    "L",
  ]);
  deepEqual(
    pick(
      valid({ email: "a@example.com", name: "Ada Lovelace", first_name: "X", last_name: "Y" }).row,
    ),
    ["X", "Y"],
  );
});

function pick(row: UserRow): [string | undefined, string | undefined] {
  return [row.firstName, row.lastName];
}

Deno.test("validateRecord() reads email_verified words in any case", () => {
  for (const word of ["true", "TRUE", "1", "yes", "Yes", true, 1]) {
    equal(valid({ email: "a@example.com", email_verified: word }).row.emailVerified, true);
  }
  for (const word of ["false", "False", "0", "no", "NO", false, 0]) {
    equal(valid({ email: "a@example.com", email_verified: word }).row.emailVerified, false);
  }
  equal(valid({ email: "a@example.com", email_verified: " " }).row.emailVerified, undefined);
  deepEqual(messages({ email: "a@example.com", email_verified: "maybe" }), [
    'Cannot import row 7: "email_verified" is "maybe": write true or false (or yes/no, 1/0)',
  ]);
});

Deno.test("validateRecord() reports a missing or invalid email with row and fix", () => {
  for (const email of [undefined, "", "   ", null]) {
    deepEqual(invalid({ email, first_name: "A" }).issues, [{
      recordNumber: 7,
      column: "email",
      message: 'Cannot import row 7: "email" is missing: add an email address',
    }]);
  }
  deepEqual(messages({ email: "ada@example" }), [
    'Cannot import row 7: "email" is not a valid address: the domain "example" has no dot: correct it',
  ]);
  deepEqual(messages({ email: 42 }), ['Cannot import row 7: "email" must be text, not a number']);
  equal(invalid({ email: " bad " }).email, "bad");
});

Deno.test("validateRecord() lets a password hash win over a plain password, with a warning", () => {
  const { row, warnings } = valid({
    email: "a@example.com",
    password: "hunter2",
    password_hash: ` ${SAMPLE_HASHES.bcrypt} `,
    password_hash_type: " BCrypt ",
  });
  equal(row.password, undefined);
  equal(row.passwordHash, SAMPLE_HASHES.bcrypt);
  equal(row.passwordHashType, "bcrypt");
  deepEqual(warnings, [{
    recordNumber: 7,
    column: "password",
    message: 'Ignoring "password" on row 7: "password_hash" is set and wins over a plain password',
  }]);
  for (const type of PASSWORD_HASH_TYPES) {
    equal(
      valid({
        email: "a@example.com",
        password_hash: SAMPLE_HASHES[type],
        password_hash_type: type,
      })
        .row.passwordHashType,
      type,
    );
  }
});

Deno.test("validateRecord() rejects a hash without a known type", () => {
  deepEqual(messages({ email: "a@example.com", password_hash: "h" }), [
    'Cannot import row 7: "password_hash" is in a format the importer does not recognize and ' +
    '"password_hash_type" is empty: set the type (bcrypt, firebase-scrypt, ssha, ssha256, scrypt, ' +
    "pbkdf2 or argon2) and write the hash in WorkOS's format (see docs/passwords.md)",
  ]);
  deepEqual(messages({ email: "a@example.com", password_hash: "h", password_hash_type: "md5" }), [
    'Cannot import row 7: "password_hash_type" is "md5": WorkOS cannot take MD5 hashes: ' +
    "import this user with --invite, or without the hash and send a password reset",
  ]);
  deepEqual(messages({ email: "a@example.com", password_hash: "h", password_hash_type: "sha3" }), [
    'Cannot import row 7: "password_hash_type" is "sha3": use bcrypt, firebase-scrypt, ssha, ' +
    "ssha256, scrypt, pbkdf2 or argon2, or leave it empty to detect the type from the hash",
  ]);
  // A type without a hash (a constant column in an export) is not an error.
  const { row } = valid({ email: "a@example.com", password: "pw", password_hash_type: "bcrypt" });
  equal(row.password, "pw");
  equal(row.passwordHashType, undefined);
});

Deno.test("validateRecord() never puts passwords or hashes in messages", () => {
  const secrets = { password: "hunter2-secret", password_hash: "$2b$hash-secret" };
  const goodHash = SAMPLE_HASHES.bcrypt.slice(0, -6) + "SECRET";
  const results = [
    validateRecord(record({ email: "bad", ...secrets, password_hash_type: "nope" })),
    validateRecord(record({ email: "a@example.com", ...secrets, password_hash_type: "bcrypt" })),
    validateRecord(record({ email: "a@example.com", ...secrets, password_hash: goodHash })),
    validateRecord(record({ email: "a@example.com", password: 12345, password_hash: { x: 1 } })),
  ];
  for (const result of results) {
    const texts = result.ok ? result.warnings : result.issues;
    ok(texts.length > 0);
    for (const issue of texts) {
      ok(!/secret|12345/.test(issue.message), issue.message);
    }
  }
  deepEqual(
    (results[3] as Extract<RecordValidation, { ok: false }>).issues.map((issue) => issue.message),
    [
      'Cannot import row 7: "password" must be text, not a number',
      'Cannot import row 7: "password_hash" must be text, not an object',
    ],
  );
});

Deno.test("validateRecord() checks metadata", () => {
  deepEqual(valid({ email: "a@example.com", metadata: { plan: "pro" } }).row.metadata, {
    plan: "pro",
  });
  deepEqual(
    valid({ email: "a@example.com", metadata: '{"a":"1"}' }).row.original.metadata,
    '{"a":"1"}',
  );
  deepEqual(
    valid({ email: "a@example.com", metadata: { a: "1" } }).row.original.metadata,
    '{"a":"1"}',
  );
  deepEqual(messages({ email: "a@example.com", metadata: "{oops" }), [
    'Cannot import row 7: "metadata" is not valid JSON: write a JSON object such as {"plan":"pro"}',
  ]);
  deepEqual(messages({ email: "a@example.com", metadata: '{"seats":5}' }), [
    'Cannot import row 7: "metadata" key "seats" holds a number: WorkOS metadata values must be strings, write "5"',
  ]);
});

Deno.test("validateRecord() reads the organization columns", () => {
  deepEqual(valid({ email: "a@example.com", org_id: "org_123" }).row.organization, {
    kind: "id",
    id: "org_123",
  });
  deepEqual(valid({ email: "a@example.com", org_external_id: 77 }).row.organization, {
    kind: "external_id",
    externalId: "77",
  });
  deepEqual(messages({ email: "a@example.com", org_id: "org_1", org_external_id: "acme" }), [
    'Cannot import row 7: both "org_id" and "org_external_id" are set: keep only one of them',
  ]);
  const { row, warnings } = valid({ email: "a@example.com", org_name: "Acme" });
  equal(row.organization, undefined);
  deepEqual(warnings, [{
    recordNumber: 7,
    column: "org_name",
    message:
      `Ignoring "org_name" on row 7: "org_external_id" is empty: add the organization's external ID to find or create it`,
  }]);
  deepEqual(valid({ email: "a@example.com", org_id: "org_1", org_name: "Acme" }).warnings, []);
  // A role without an organization may still apply to an organization given
  // for the whole import.
  equal(valid({ email: "a@example.com", role_slug: "admin" }).row.roleSlug, "admin");
});

Deno.test("validateRecord() limits external IDs to 64 characters", () => {
  const id = "x".repeat(MAX_EXTERNAL_ID_LENGTH);
  equal(valid({ email: "a@example.com", external_id: id }).row.externalId, id);
  equal(valid({ email: "a@example.com", external_id: "é".repeat(64) }).row.externalId?.length, 64);
  deepEqual(messages({ email: "a@example.com", external_id: `${id}y` }), [
    'Cannot import row 7: "external_id" is 65 characters long: WorkOS allows at most 64',
  ]);
  deepEqual(messages({ email: "a@example.com", org_external_id: `${id}y` }), [
    'Cannot import row 7: "org_external_id" is 65 characters long: WorkOS allows at most 64',
  ]);
});

Deno.test("validateRecord() reports every problem in a row at once", () => {
  const result = invalid({
    email: "",
    first_name: "Ada\u0000Lovelace",
    email_verified: "sometimes",
    metadata: "[]",
    org_id: "org_1",
    org_external_id: "acme",
  });
  deepEqual(result.issues.map((issue) => issue.column), [
    "email",
    "first_name",
    "email_verified",
    "metadata",
    "org_external_id",
  ]);
  equal(
    result.issues[1].message,
    'Cannot import row 7: "first_name" contains a NUL character (U+0000), which WorkOS cannot store: remove it',
  );
  deepEqual(result.original, {
    email: "",
    first_name: "Ada\u0000Lovelace",
    email_verified: "sometimes",
    metadata: "[]",
    org_id: "org_1",
    org_external_id: "acme",
  });
});

Deno.test("validateRecord() warns about unknown NDJSON fields and ignores error-file fields", () => {
  const { row, warnings } = valid({
    email: "a@example.com",
    department: "R&D",
    errormessage: "old error",
    recordnumber: 3,
  });
  deepEqual(warnings, [{
    recordNumber: 7,
    column: "department",
    message: 'Ignoring unknown field "department" on row 7',
  }]);
  deepEqual(row.original, { email: "a@example.com" });
});

Deno.test("validateRecord() checks NDJSON value types", () => {
  deepEqual(messages({ email: "a@example.com", first_name: { given: "Ada" }, last_name: true }), [
    'Cannot import row 7: "first_name" must be text, not an object',
    'Cannot import row 7: "last_name" must be text, not true or false',
  ]);
  const { row } = valid({ email: "a@example.com", external_id: 12345, first_name: null });
  equal(row.externalId, "12345");
  deepEqual(row.original, { email: "a@example.com", external_id: "12345", first_name: "" });
});

Deno.test("validateRecord() passes parse errors through as the row's only issue", () => {
  const result = validateRecord({
    recordNumber: 4,
    byteEnd: 99,
    fields: { email: " d@example.com ", first_name: "D" },
    parseError: "Cannot parse row 4: found 3 values but the header has 2 columns: quote values",
  });
  deepEqual(result, {
    ok: false,
    issues: [{
      recordNumber: 4,
      message: "Cannot parse row 4: found 3 values but the header has 2 columns: quote values",
    }],
    email: "d@example.com",
    original: { email: "d@example.com", first_name: "D" },
  });
});

Deno.test("validateRecord() makes emails that differ only in case one identity", () => {
  const a = valid({ email: "Ada@Example.com" }).row;
  const b = valid({ email: "ada@EXAMPLE.COM " }).row;
  equal(a.emailKey, b.emailKey);
  ok(a.email !== b.email);
});

Deno.test("validateRecord() on records from openInput() names the right rows", async () => {
  const { openInput } = await import("../src/input/open_input.ts");
  const csv = "\ufeffEmail,Name,Password,Org_Name\r\n" +
    "ada@example.com,Ada Lovelace,pw1,\r\n" +
    "\r\n" +
    ",No Email,pw2,\r\n" +
    '"bob@example.com ","Bob, Jr.",pw3,Acme\r\n' +
    "carol@example,Carol,pw4,\r\n";
  const input = await openInput(new Blob([csv]).stream());
  const results: RecordValidation[] = [];
  for await (const batch of input.records) results.push(...batch.map(validateRecord));
  deepEqual(results.map((result) => result.ok), [true, false, true, false]);
  deepEqual(
    results.flatMap((result) => result.ok ? result.warnings : result.issues).map((issue) =>
      issue.message
    ),
    [
      'Cannot import row 2: "email" is missing: add an email address',
      `Ignoring "org_name" on row 3: "org_external_id" is empty: add the organization's external ID to find or create it`,
      'Cannot import row 4: "email" is not a valid address: the domain "example" has no dot: correct it',
    ],
  );
  const bob = results[2];
  ok(bob.ok);
  equal(bob.row.email, "bob@example.com");
  equal(bob.row.firstName, "Bob,");
  equal(bob.row.lastName, "Jr.");
});

Deno.test("validateRecord() keeps line breaks, tabs and control characters WorkOS stores, with a warning", () => {
  const { row, warnings } = valid({
    email: "ada@example.com",
    first_name: "Ada\tMaria",
    last_name: "Line1\nLine2",
    external_id: "id\u0007bell",
    metadata: '{"note":"two\\nlines","plain":"ok"}',
  });
  equal(row.firstName, "Ada\tMaria");
  equal(row.lastName, "Line1\nLine2");
  equal(row.externalId, "id\u0007bell");
  deepEqual(row.metadata, { note: "two\nlines", plain: "ok" });
  deepEqual(warnings.map((warning) => warning.message), [
    '"first_name" contains a tab: imported as given',
    '"last_name" contains a line break: imported as given',
    '"external_id" contains the control character U+0007: imported as given',
    '"metadata" key "note" has a value with a line break: imported as given',
  ]);
});

Deno.test("validateRecord() fails what WorkOS cannot store: NUL and unpaired surrogates", () => {
  const nul = invalid({ email: "ada@example.com", last_name: "Love\u0000lace" });
  deepEqual(nul.issues.map((issue) => issue.message), [
    'Cannot import row 7: "last_name" contains a NUL character (U+0000), which WorkOS cannot store: remove it',
  ]);
  const surrogate = invalid({ email: "ada@example.com", first_name: "Ada\ud800" });
  deepEqual(surrogate.issues.map((issue) => issue.message), [
    'Cannot import row 7: "first_name" contains an unpaired UTF-16 surrogate (broken text), which WorkOS cannot store: remove it',
  ]);
  const metadata = invalid({ email: "ada@example.com", metadata: '{"note":"a\\u0000b"}' });
  deepEqual(metadata.issues.map((issue) => issue.message), [
    'Cannot import row 7: "metadata" key "note" has a value with a NUL character (U+0000), which WorkOS cannot store: remove it',
  ]);
});

Deno.test("validateRecord keeps each row's issues and warnings its own, row after row", () => {
  // Rows are checked one after another with one reused checker: the lists
  // handed out with a row must stay as they were while later rows are checked.
  const bad = validateRecord({
    recordNumber: 1,
    fields: { email: "nope", locale: "en_GB" },
    byteEnd: 1,
  });
  const warned = validateRecord({
    recordNumber: 2,
    fields: { email: "ada@example.com", locale: "en_GB" },
    byteEnd: 2,
  });
  const clean = validateRecord({
    recordNumber: 3,
    fields: { email: "bob@example.com" },
    byteEnd: 3,
  });
  const alsoBad = validateRecord({ recordNumber: 4, fields: { email: "" }, byteEnd: 4 });
  equal(bad.ok, false);
  equal(alsoBad.ok, false);
  if (bad.ok || alsoBad.ok || !warned.ok || !clean.ok) throw new Error("unexpected outcome");
  deepEqual(bad.issues.map((issue) => [issue.recordNumber, issue.column]), [[1, "email"]]);
  deepEqual(alsoBad.issues.map((issue) => [issue.recordNumber, issue.column]), [[
    4,
    "email",
  ]]);
  deepEqual(warned.warnings.map((issue) => [issue.recordNumber, issue.column]), [[
    2,
    "locale",
  ]]);
  deepEqual(clean.warnings, []);
});
