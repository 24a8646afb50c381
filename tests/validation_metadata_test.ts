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
    // Only checked: the same answer, with no object where the one pass read it.
    const whole = parseMetadata(text, { plain: true });
    const checked = parseMetadata(text, { plain: true, keep: false });
    if (!whole.ok || !checked.ok) deepEqual(checked, whole, text);
    else if (checked.metadata !== undefined) deepEqual(checked.metadata, whole.metadata, text);
  }
  // What the one pass reads is checked without an object; the rest is read whole.
  const only = { plain: true, keep: false };
  deepEqual(parseMetadata('{"plan":"pro","seat":"3"}', only), { ok: true, metadata: undefined });
  deepEqual(parseMetadata(`{"k":"${long}"}`, only), { ok: true, metadata: undefined });
  deepEqual(parseMetadata('{"plan":"pro","plan":"team"}', only), {
    ok: true,
    metadata: { plan: "team" },
  });
  deepEqual(parseMetadata('{"q":"say \\"hi\\""}', only), {
    ok: true,
    metadata: { q: 'say "hi"' },
  });
  deepEqual(parseMetadata('{"__proto__":"x"}', only), parseMetadata('{"__proto__":"x"}'));
  deepEqual(parseMetadata('{"seats":5}', only), parseMetadata('{"seats":5}'));
  deepEqual(
    parseMetadata(`{"${"k".repeat(41)}":"v"}`, only),
    parseMetadata(`{"${"k".repeat(41)}":"v"}`),
  );
  deepEqual(parseMetadata('{"plan":"pro"', only), parseMetadata('{"plan":"pro"'));
  // Without plain, keep changes nothing: the cell is read whole.
  deepEqual(parseMetadata('{"plan":"pro"}', { keep: false }), {
    ok: true,
    metadata: { plan: "pro" },
  });
  deepEqual(parseMetadata(' {"plan":"pro"} ', { plain: true }), {
    ok: true,
    metadata: { plan: "pro" },
  });
});

Deno.test("parseMetadata gives the same objects and answers whether its keys repeat row after row or are new each time", () => {
  // The one-pass reader remembers the first keys it meets and hands them
  // out again: rows that share keys, more keys than it remembers, keys that
  // differ only in length or case, and a key repeated inside one object
  // must read exactly as JSON.parse and the checks read them.
  const cells: string[] = [];
  for (let i = 0; i < 60; i++) {
    cells.push(`{"plan":"p${i}","seat":"${i % 7}"}`);
    cells.push(`{"k${i}":"v","K${i}":"w","k${i}x":""}`);
    cells.push(`{"department":"D${i}","employee_id":"E${i}"}`);
  }
  for (const pass of [1, 2]) {
    for (const cell of cells) {
      deepEqual(
        parseMetadata(cell, { plain: true }),
        { ok: true, metadata: JSON.parse(cell) },
        `pass ${pass}: ${cell}`,
      );
    }
  }
  const repeated = parseMetadata('{"plan":"a","seat":"b","plan":"c"}', { plain: true });
  deepEqual(repeated, parseMetadata('{"plan":"a","seat":"b","plan":"c"}'));
  equal(repeated.ok, true);
  deepEqual(repeated.ok && repeated.metadata, { plan: "c", seat: "b" });
  // Checked only, keys repeated across rows and within one: the same verdicts.
  for (const cell of [...cells, '{"plan":"a","seat":"b","plan":"c"}', '{"ab":"1","ba":"2"}']) {
    const checked = parseMetadata(cell, { plain: true, keep: false });
    const whole = parseMetadata(cell, { plain: true });
    equal(checked.ok, whole.ok, cell);
    if (checked.ok && checked.metadata !== undefined) deepEqual(checked.metadata, JSON.parse(cell));
  }
  equal(
    (parseMetadata('{"plan":"a","seat":"b","plan":"c"}', { plain: true, keep: false }) as {
      metadata?: unknown;
    }).metadata !== undefined,
    true,
  );
  deepEqual(parseMetadata('{"ab":"1","ba":"2"}', { plain: true, keep: false }), {
    ok: true,
    metadata: undefined,
  });
});
