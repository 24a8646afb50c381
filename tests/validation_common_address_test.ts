import { equal } from "node:assert/strict";
import { isCommonAddress } from "../src/validation/_common_address.ts";
import { normalizeEmail } from "../src/validation/email.ts";
import { seededRandom } from "./_random.ts";

// The regular expression the quick check replaced, with its length limits:
// the quick check must accept exactly what it accepted.
const COMMON_ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function byRegExp(email: string): boolean {
  return email.length <= 254 && COMMON_ADDRESS.test(email) && email.indexOf("@") <= 64;
}

function label(length: number, fill = "a"): string {
  return fill.repeat(length);
}

Deno.test("isCommonAddress() takes domain labels up to 63 characters, the last one too", () => {
  const cases = [
    `ada@${label(63)}.com`,
    `ada@${label(64)}.com`,
    `ada@example.${label(63)}`,
    `ada@example.${label(64)}`,
    `ada@a${label(61, "-")}b.com`,
    `ada@a${label(62, "-")}b.com`,
    `ada@example.c${label(61, "-")}m`,
    `ada@example.c${label(62, "-")}m`,
    `${label(64)}@example.com`,
    `${label(65)}@example.com`,
    `ada@${label(63)}.${label(63)}.${label(63)}.${label(58)}`,
    `ada@${label(63)}.${label(63)}.${label(63)}.${label(59)}`,
  ];
  const expected = [true, false, true, false, true, false, true, false, true, false, true, false];
  for (let i = 0; i < cases.length; i++) {
    equal(isCommonAddress(cases[i]), expected[i], cases[i]);
    equal(isCommonAddress(cases[i]), byRegExp(cases[i]), cases[i]);
  }
});

Deno.test("isCommonAddress() leaves to the full check what it does not take", () => {
  for (
    const email of [
      "",
      "@example.com",
      "ada@",
      "ada@example",
      "ada@example.",
      "ada@.example.com",
      "ada@example..com",
      ".ada@example.com",
      "ada.@example.com",
      "a..da@example.com",
      "ada@@example.com",
      "ada@exa@mple.com",
      "ada@-example.com",
      "ada@example-.com",
      "ada@example.com-",
      "ada@example.-com",
      "ada@example.123",
      "ada@example.1com",
      "ada@exam_ple.com",
      "ad a@example.com",
      "adé@example.com",
      "ada@exämple.com",
      '"ada"@example.com',
    ]
  ) {
    equal(isCommonAddress(email), false, email);
    equal(byRegExp(email), false, email);
  }
  for (const email of ["a@b.co", "a.b-c+d@x-y.example.org", "A'B{|}~`^#@ex1.c0m", "1@2.x"]) {
    equal(isCommonAddress(email), true, email);
    equal(byRegExp(email), true, email);
  }
  // What the quick check does not take, the full check still judges.
  equal(normalizeEmail(`ada@${label(64)}.com`).ok, false);
  equal(normalizeEmail("ada@example.123").ok, false);
  equal(normalizeEmail("ada@exämple.com").ok, true);
});

Deno.test("isCommonAddress() agrees with the regular expression it replaced on random text", () => {
  const random = seededRandom(16);
  const pieces = [
    "a",
    "Z",
    "0",
    "9",
    "-",
    ".",
    "@",
    "_",
    "+",
    "'",
    "~",
    " ",
    "é",
    "\u0000",
    '"',
    "(",
    "ab",
    "example",
    "com",
    "..",
    ".-",
    "-.",
    "@x.",
    label(20),
    label(31),
    label(62),
  ];
  let accepted = 0;
  for (let n = 0; n < 60_000; n++) {
    // Mostly addresses of a plausible shape, with random pieces spliced in.
    let email = "";
    const parts = 1 + Math.floor(random() * 8);
    for (let p = 0; p < parts; p++) {
      email += random() < 0.3 ? pieces[Math.floor(random() * pieces.length)] : "ab";
      if (p === 0 && random() < 0.8) email += "@";
      else if (random() < 0.5) email += ".";
    }
    if (random() < 0.5) email += ".com";
    if (random() < 0.05) email = label(Math.floor(random() * 70)) + email;
    const expected = byRegExp(email);
    if (expected) accepted++;
    equal(isCommonAddress(email), expected, JSON.stringify(email));
  }
  // Both answers came up often enough to mean something.
  equal(accepted > 5_000 && accepted < 55_000, true, `${accepted} accepted`);
});
