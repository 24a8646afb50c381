import { deepEqual, equal } from "node:assert/strict";
import { parseMetadata } from "../src/validation/metadata.ts";

function reason(value: unknown): string {
  const result = parseMetadata(value);
  if (result.ok) throw new Error(`Expected ${JSON.stringify(value)} to be rejected`);
  return result.reason;
}

Deno.test("parseMetadata() reads JSON text, objects, and blanks", () => {
  deepEqual(parseMetadata(' {"plan":"pro","seat":"3"} '), {
    ok: true,
    metadata: { plan: "pro", seat: "3" },
  });
  deepEqual(parseMetadata({ plan: "pro" }), { ok: true, metadata: { plan: "pro" } });
  deepEqual(parseMetadata("{}"), { ok: true, metadata: {} });
  for (const blank of ["", "  ", undefined, null]) {
    deepEqual(parseMetadata(blank), { ok: true, metadata: undefined });
  }
});

Deno.test("parseMetadata() rejects what is not a JSON object of strings", () => {
  equal(reason("{plan:pro}"), 'is not valid JSON: write a JSON object such as {"plan":"pro"}');
  equal(reason("[1]"), 'is an array, not a JSON object: write an object such as {"plan":"pro"}');
  equal(reason('"pro"'), 'is a string, not a JSON object: write an object such as {"plan":"pro"}');
  equal(reason(5), 'is a number, not a JSON object: write an object such as {"plan":"pro"}');
  equal(
    reason('{"seats":5}'),
    'key "seats" holds a number: WorkOS metadata values must be strings, write "5"',
  );
  equal(
    reason({ admin: true }),
    'key "admin" holds a boolean: WorkOS metadata values must be strings, write "true"',
  );
  equal(
    reason({ tags: ["a"] }),
    'key "tags" holds an array: WorkOS metadata values must be strings',
  );
  equal(
    reason({ nested: { a: "b" } }),
    'key "nested" holds an object: WorkOS metadata values must be strings',
  );
  equal(reason({ gone: null }), 'key "gone" holds null: WorkOS metadata values must be strings');
});

Deno.test("parseMetadata() enforces WorkOS's documented limits", () => {
  const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "v"]));
  equal(parseMetadata(ten).ok, true);
  equal(reason({ ...ten, k10: "v" }), "has 11 keys: WorkOS allows at most 10, remove some");
  equal(parseMetadata({ ["k".repeat(40)]: "v".repeat(600) }).ok, true);
  equal(
    reason({ ["k".repeat(41)]: "v" }),
    `key "${"k".repeat(41)}" is 41 characters long: WorkOS allows at most 40`,
  );
  equal(
    reason({ note: "v".repeat(601) }),
    'key "note" has a value of 601 characters: WorkOS allows at most 600',
  );
  equal(reason({ "clé": "v" }), 'key "clé" is not ASCII: WorkOS metadata keys must be ASCII');
  equal(
    reason({ city: "München" }),
    'key "city" has a value that is not ASCII: WorkOS metadata values must be ASCII',
  );
  equal(reason({ "": "v" }), "has an empty key: give every value a name");
});

Deno.test("parseMetadata reads printable ASCII in one pass with the very result JSON.parse gives", () => {
  const long = "x".repeat(600);
  const cases = [
    '{"plan":"pro"}',
    ' { "plan" : "pro" , "seat" : "3" } ',
    "{}",
    "{ }",
    '{"a":""}',
    '{"":"x"}',
    '{"plan":"pro","plan":"team"}',
    '{"__proto__":"x"}',
    '{"b":"1","1":"2","a":"3"}',
    '{"q":"say \\"hi\\""}',
    '{"path":"a\\\\b"}',
    '{"seats":5}',
    '{"ok":true}',
    '{"n":null}',
    '{"o":{"p":"q"}}',
    '{"l":["a"]}',
    `{"k":"${long}"}`,
    `{"k":"${long}x"}`,
    `{"${"k".repeat(40)}":"v"}`,
    `{"${"k".repeat(41)}":"v"}`,
    `{${Array.from({ length: 10 }, (_, i) => `"k${i}":"v"`).join(",")}}`,
    `{${Array.from({ length: 11 }, (_, i) => `"k${i}":"v"`).join(",")}}`,
    '{"plan":"pro",}',
    '{"plan":"pro"} x',
    '{"plan":"pro"}}',
    '{"plan" "pro"}',
    '{"plan":"pro"',
    '{"plan":pro}',
    "{'plan':'pro'}",
    '["plan"]',
    '"plan"',
    "5",
    "null",
    "{",
    "}",
  ];
  for (const text of cases) {
    deepEqual(parseMetadata(text, { plain: true }), parseMetadata(text), text);
  }
  deepEqual(parseMetadata(' {"plan":"pro"} ', { plain: true }), {
    ok: true,
    metadata: { plan: "pro" },
  });
});
