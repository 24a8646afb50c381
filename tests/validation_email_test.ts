import { deepEqual, equal } from "node:assert/strict";
import { normalizeEmail } from "../src/validation/email.ts";

function reason(raw: string): string {
  const result = normalizeEmail(raw);
  if (result.ok) throw new Error(`Expected ${JSON.stringify(raw)} to be rejected`);
  return result.reason;
}

Deno.test("normalizeEmail() trims, keeps case in the email and lower-cases the key", () => {
  deepEqual(normalizeEmail("\t Ada.Lovelace+tag@Example.COM \r\n"), {
    ok: true,
    email: "Ada.Lovelace+tag@Example.COM",
    key: "ada.lovelace+tag@example.com",
  });
  deepEqual(normalizeEmail("\u00a0a@example.com\ufeff"), {
    ok: true,
    email: "a@example.com",
    key: "a@example.com",
  });
});

Deno.test("normalizeEmail() puts addresses in Unicode NFC", () => {
  const decomposed = "Zoe\u0308@exa\u0301mple.com";
  const result = normalizeEmail(decomposed);
  deepEqual(result, { ok: true, email: "Zoë@exámple.com", key: "zoë@exámple.com" });
  const composed = normalizeEmail("zo\u00eb@ex\u00e1mple.com");
  equal(composed.ok && result.ok && composed.key === result.key, true);
});

Deno.test("normalizeEmail() accepts valid but unusual addresses", () => {
  for (
    const address of [
      "a@b.co",
      "o'brien@example.ie",
      "x!#$%&'*+/=?^_`{|}~-y@example.com",
      "first.last@sub-domain.example.co.uk",
      "用户@例子.广告",
      "δοκιμή@παράδειγμα.δοκιμή",
      "a@xn--bcher-kva.example",
      "user@123.example.com",
      `${"a".repeat(64)}@example.com`,
    ]
  ) {
    equal(normalizeEmail(address).ok, true, address);
  }
});

Deno.test("normalizeEmail() explains why an address cannot be valid", () => {
  equal(reason(""), "the address is empty");
  equal(reason("   "), "the address is empty");
  equal(reason("ada.example.com"), '"ada.example.com" has no @');
  equal(reason("a@b@example.com"), '"a@b@example.com" has more than one @');
  equal(reason("@example.com"), '"@example.com" has nothing before the @');
  equal(reason("ada@"), '"ada@" has nothing after the @');
  equal(reason("ada lovelace@example.com"), '"ada lovelace@example.com" contains a space');
  equal(reason("ada\t@example.com"), '"ada\\t@example.com" contains U+0009');
  equal(
    reason("ada\u200b@example.com"),
    '"ada\u200b@example.com" contains the invisible character U+200B',
  );
  equal(
    reason("ad\ufffda@example.com"),
    '"ad\ufffda@example.com" holds bytes that are not valid UTF-8',
  );
  equal(
    reason("ada,b@example.com"),
    '"ada,b@example.com" has "," before the @, which addresses cannot contain',
  );
  equal(
    reason("ada..b@example.com"),
    '"ada..b@example.com" has a dot at the start or end of the part before the @, or two dots in a row',
  );
  equal(reason(".ada@example.com").includes("a dot at the start or end"), true);
  equal(reason("ada@example"), 'the domain "example" has no dot');
  equal(
    reason("ada@example..com"),
    'the domain "example..com" has an empty part (a dot at the start or end, or two dots in a row)',
  );
  equal(reason("ada@example.com.").includes("has an empty part"), true);
  equal(
    reason("ada@-example.com"),
    'the domain "-example.com" has a part that starts or ends with "-"',
  );
  equal(
    reason("ada@exa_mple.com"),
    'the domain "exa_mple.com" contains "_", which domains cannot contain',
  );
  equal(
    reason("ada@10.0.0.1"),
    'the domain "10.0.0.1" ends in a number, which is not a valid top-level domain',
  );
  equal(reason("ada@[10.0.0.1]").includes('contains "["'), true);
});

Deno.test("normalizeEmail() enforces the RFC 5321 length limits in bytes", () => {
  equal(
    reason(`${"a".repeat(65)}@example.com`),
    `"${"a".repeat(65)}@example.com" has 65 bytes before the @, more than the 64 allowed`,
  );
  // 22 two-byte letters and 21 ASCII ones: 43 characters, 65 bytes.
  const wide = "é".repeat(22) + "a".repeat(21);
  equal(reason(`${wide}@example.com`).includes("has 65 bytes before the @"), true);
  equal(normalizeEmail(`${"é".repeat(32)}@example.com`).ok, true);

  const label = "a".repeat(63);
  const longDomain = `${label}.${label}.${label}.${"b".repeat(61)}.com`;
  equal(longDomain.length, 257);
  equal(
    reason(`a@${longDomain}`).includes("257 bytes after the @, more than the 255 allowed"),
    true,
  );

  const address = `${"a".repeat(64)}@${label}.${label}.${"c".repeat(58)}.com`;
  equal(address.length, 255);
  equal(reason(address), `"${address}" is 255 bytes long, more than the 254 allowed`);
  equal(normalizeEmail(address.slice(1)).ok, true);

  equal(
    reason(`a@${"x".repeat(64)}.com`),
    `the domain "${"x".repeat(64)}.com" has a part longer than 63 bytes`,
  );
});
