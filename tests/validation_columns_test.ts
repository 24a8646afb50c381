import { deepEqual, equal } from "node:assert/strict";
import {
  ERROR_FILE_COLUMNS,
  findUnknownColumns,
  INPUT_COLUMNS,
  isInputColumn,
  KNOWN_COLUMNS,
  normalizeColumnName,
} from "../src/validation/columns.ts";

Deno.test("KNOWN_COLUMNS holds the input columns and the error-file columns in lower case", () => {
  deepEqual(INPUT_COLUMNS, [
    "email",
    "first_name",
    "last_name",
    "name",
    "password",
    "password_hash",
    "password_hash_type",
    "password_salt_position",
    "email_verified",
    "external_id",
    "locale",
    "metadata",
    "org_id",
    "org_external_id",
    "org_name",
    "role_slug",
    "role_slugs",
    "totp_secret",
    "totp_issuer",
    "totp_user",
  ]);
  deepEqual(ERROR_FILE_COLUMNS, [
    "recordNumber",
    "errorType",
    "errorMessage",
    "httpStatus",
    "workosCode",
    "workosRequestId",
    "timestamp",
  ]);
  equal(KNOWN_COLUMNS.length, INPUT_COLUMNS.length + ERROR_FILE_COLUMNS.length);
  equal(KNOWN_COLUMNS.includes("workosrequestid"), true);
});

Deno.test("findUnknownColumns() names unknown columns once, ignoring error-file columns", () => {
  deepEqual(
    findUnknownColumns([
      "Email",
      " Department ",
      "errorMessage",
      "HTTPSTATUS",
      "department",
      "",
      "team",
    ]),
    ["department", "team"],
  );
  deepEqual(findUnknownColumns([...INPUT_COLUMNS, ...ERROR_FILE_COLUMNS]), []);
});

Deno.test("isInputColumn() and normalizeColumnName() normalize first", () => {
  equal(normalizeColumnName("  Org_External_ID "), "org_external_id");
  equal(isInputColumn(" ROLE_SLUG"), true);
  equal(isInputColumn("timestamp"), false);
});
