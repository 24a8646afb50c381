import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  FirebaseHashConfigError,
  firebaseScryptHash,
  type HashPreparation,
  parseFirebaseHashConfig,
  preparePasswordHash,
  WORKOS_HASH_TYPES,
} from "../src/passwords/mod.ts";
import { SAMPLE_HASHES } from "./_password_hashes.ts";
import { type PhcParts, writePhc } from "../src/passwords/_phc.ts";

const HEX32 = "ab".repeat(32);
const B64_32 = btoa(String.fromCharCode(...new Uint8Array(32).fill(0xab)));
const PHC_32 = B64_32.replace(/=+$/, "");

function sent(result: HashPreparation): { hash: string; type: string; converted: boolean } {
  if (!result.ok) throw new Error(result.problem.reason);
  return { hash: result.value.hash, type: result.value.type, converted: result.value.converted };
}

function problem(result: HashPreparation): { column: string; reason: string } {
  if (result.ok) throw new Error(`expected a problem, got ${result.value.hash}`);
  return result.problem;
}

Deno.test("preparePasswordHash() detects every WorkOS type from the hash and sends it unchanged", () => {
  deepEqual(Object.keys(SAMPLE_HASHES).sort(), [...WORKOS_HASH_TYPES].sort());
  for (const [type, hash] of Object.entries(SAMPLE_HASHES)) {
    deepEqual(sent(preparePasswordHash(hash)), { hash, type, converted: false }, type);
    deepEqual(sent(preparePasswordHash(hash, { type: type.toUpperCase() })).type, type);
  }
  for (const prefix of ["$2a$", "$2b$", "$2y$"]) {
    equal(sent(preparePasswordHash(SAMPLE_HASHES.bcrypt.replace("$2b$", prefix))).type, "bcrypt");
  }
  for (const variant of ["argon2i", "argon2d"]) {
    const hash = SAMPLE_HASHES.argon2.replace("argon2id", variant);
    equal(sent(preparePasswordHash(hash)).type, "argon2");
  }
});

Deno.test("preparePasswordHash() converts the formats other systems write into WorkOS's", () => {
  const cases: [string, string, string, string][] = [
    [
      "Django pbkdf2 (WorkOS's documented example)",
      "pbkdf2_sha256$600000$OjmDXz1xCAXvIfnPgiApTN$xXiyTisD7390NijyCv5ICMhFW4eDuMlzypRoLGLyIvA=",
      "pbkdf2",
      SAMPLE_HASHES.pbkdf2,
    ],
    [
      "Django pbkdf2 sha512",
      `pbkdf2_sha512$210000$salt$${B64_32}`,
      "pbkdf2",
      `$pbkdf2$i=210000,d=sha512$c2FsdA$${PHC_32}`,
    ],
    [
      "Werkzeug pbkdf2",
      `pbkdf2:sha256:600000$salt$${HEX32}`,
      "pbkdf2",
      `$pbkdf2$i=600000,d=sha256$c2FsdA$${PHC_32}`,
    ],
    [
      "Werkzeug scrypt",
      `scrypt:32768:8:1$salt$${HEX32}`,
      "scrypt",
      `$scrypt$n=32768,r=8,p=1,kl=32$c2FsdA$${PHC_32}`,
    ],
    [
      "Django scrypt",
      `scrypt$salt$16384$8$1$${B64_32}`,
      "scrypt",
      `$scrypt$n=16384,r=8,p=1,kl=32$c2FsdA$${PHC_32}`,
    ],
    [
      "passlib pbkdf2-sha256 (adapted base64)",
      `$pbkdf2-sha256$600000$c2FsdA$${PHC_32.replace(/\+/g, ".")}`,
      "pbkdf2",
      `$pbkdf2$i=600000,d=sha256$c2FsdA$${PHC_32}`,
    ],
    [
      "Django argon2",
      "argon2" + SAMPLE_HASHES.argon2,
      "argon2",
      SAMPLE_HASHES.argon2,
    ],
    [
      "Django bcrypt",
      "bcrypt$" + SAMPLE_HASHES.bcrypt,
      "bcrypt",
      SAMPLE_HASHES.bcrypt,
    ],
    [
      "padded base64 in a PHC string",
      "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ=$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
      "argon2",
      SAMPLE_HASHES.argon2,
    ],
    [
      "hex hash in a PHC string",
      `$pbkdf2$i=600000,d=sha256$c2FsdA$${HEX32}`,
      "pbkdf2",
      `$pbkdf2$i=600000,d=sha256$c2FsdA$${PHC_32}`,
    ],
    [
      "scrypt without kl, with ln",
      `$scrypt$ln=14,r=8,p=1$c2FsdA$${PHC_32}`,
      "scrypt",
      `$scrypt$n=16384,r=8,p=1,kl=32$c2FsdA$${PHC_32}`,
    ],
    [
      "padded, URL-safe firebase-scrypt",
      "$firebase-scrypt$hash=aGFzaA==$salt=c2FsdA==$sk=a2V5$ss=Bw==$r=8$m=14",
      "firebase-scrypt",
      SAMPLE_HASHES["firebase-scrypt"],
    ],
  ];
  for (const [name, input, type, expected] of cases) {
    deepEqual(sent(preparePasswordHash(input)), { hash: expected, type, converted: true }, name);
    // The declared type agrees, in any case.
    deepEqual(sent(preparePasswordHash(input, { type })).hash, expected, name);
  }
});

Deno.test("preparePasswordHash() refuses parameters outside WorkOS's ranges, naming them", () => {
  const argon2 = (params: string, variant = "argon2id", version = "v=19$") =>
    `$${variant}$${version}${params}$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG`;
  const cases: [string, RegExp][] = [
    [argon2("m=1024,t=3,p=4"), /m=1024: WorkOS accepts m from 4,096 to 262,144 KiB/],
    [argon2("m=524288,t=3,p=4"), /m=524288/],
    [argon2("m=65536,t=6,p=4"), /t=6: WorkOS accepts t from 1 to 5/],
    [argon2("m=65536,t=0,p=4"), /t=0/],
    [argon2("m=65536,t=2,p=4", "argon2i"), /t=2: WorkOS accepts t from 3 to 5 for argon2i/],
    [argon2("m=65536,t=3,p=9"), /p=9: WorkOS accepts p from 1 to 8/],
    [argon2("m=65536,t=3,p=4", "argon2id", "v=16$"), /v=16: WorkOS takes version 19 only/],
    [argon2("m=65536,t=3,p=4", "argon2id", ""), /without "v=19"/],
    [`$pbkdf2$i=599999,d=sha256$c2FsdA$${PHC_32}`, /i=599999: WorkOS accepts i from 600,000 to/],
    [`$pbkdf2$i=1000001,d=sha512$c2FsdA$${PHC_32}`, /i=1000001: .*210,000 to 1,000,000 for sha512/],
    [`$pbkdf2$i=209999,d=sha512$c2FsdA$${PHC_32}`, /i=209999/],
    [`$pbkdf2$i=600000,d=sha1$c2FsdA$${PHC_32}`, /d=sha1: WorkOS takes d=sha256 or d=sha512/],
    [`$pbkdf2$d=sha256$c2FsdA$${PHC_32}`, /without "i"/],
    [`pbkdf2_sha256$260000$salt$${B64_32}`, /i=260000/],
    [`$scrypt$n=1000,r=8,p=1,kl=32$c2FsdA$${PHC_32}`, /n=1000: n must be a power of 2/],
    [`$scrypt$n=16384,r=8,p=1,kl=64$c2FsdA$${PHC_32}`, /kl=64 but a hash of 32 bytes/],
    ["$2b$03$" + "a".repeat(53), /cost 03/],
    ["$2b$10$tooshort", /not a complete bcrypt hash/],
    ["{SSHA}" + btoa("s".repeat(20)), /needs the 20-byte digest followed by the salt/],
    ["$firebase-scrypt$hash=aGFzaA$salt=c2FsdA$sk=a2V5$r=8$m=14", /no ss= field/],
  ];
  for (const [hash, pattern] of cases) {
    const { column, reason } = problem(preparePasswordHash(hash));
    equal(column, "password_hash", hash);
    match(reason, pattern, hash);
    ok(!reason.includes("c29tZXNhbHQ") && !reason.includes(PHC_32), "no hash in messages");
  }
});

Deno.test("preparePasswordHash() refuses hashes WorkOS cannot take and suggests --invite or a reset", () => {
  const hashes = [
    "5f4dcc3b5aa765d61d8327deb882cf99", // md5
    "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", // unsalted sha1
    "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
    "$1$salt$qJH7.N4xYta3aEG/dfqo/0",
    "$6$salt$abcdefghijklmnopqrstuvwxyz",
    "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
    "pbkdf2_sha1$600000$salt$" + btoa("x".repeat(20)),
    "bcrypt_sha256$$2b$12$" + "a".repeat(53),
  ];
  for (const hash of hashes) {
    const { column, reason } = problem(preparePasswordHash(hash));
    equal(column, "password_hash", hash);
    match(
      reason,
      /WorkOS cannot take it: import this user with --invite, or .*password reset/,
      hash,
    );
  }
  for (const type of ["md5", "SHA1", "plain"]) {
    const { column, reason } = problem(preparePasswordHash("whatever", { type }));
    equal(column, "password_hash_type");
    match(reason, /--invite/);
  }
});

Deno.test("preparePasswordHash() holds the hash to its declared type", () => {
  const { column, reason } = problem(
    preparePasswordHash(SAMPLE_HASHES.argon2, { type: "bcrypt" }),
  );
  equal(column, "password_hash_type");
  match(reason, /"password_hash_type" is "bcrypt" but "password_hash" is an argon2 hash/);
  match(
    problem(preparePasswordHash("abc", { type: "pbkdf2" })).reason,
    /does not look like a pbkdf2 hash: expected \$pbkdf2\$i=…,d=sha256\$<salt>\$<hash>/,
  );
  match(
    problem(preparePasswordHash(B64_32, { type: "firebase-scrypt" })).reason,
    /--from firebase --hash-config <file>/,
  );
  // A declared ssha hash may leave out its {SSHA} marker.
  const body = btoa("s".repeat(32) + "salt");
  deepEqual(sent(preparePasswordHash(body, { type: "ssha256" })), {
    hash: `{SSHA256}${body}`,
    type: "ssha256",
    converted: true,
  });
});

Deno.test("preparePasswordHash() reads password_salt_position for ssha and ssha256", () => {
  const prefix = preparePasswordHash(SAMPLE_HASHES.ssha256, { saltPosition: " Prefix " });
  equal(prefix.ok && prefix.value.saltPosition, "prefix");
  // Suffix is WorkOS's default: nothing to send.
  const suffix = preparePasswordHash(SAMPLE_HASHES.ssha, { saltPosition: "suffix" });
  equal(suffix.ok && suffix.value.saltPosition, undefined);
  const bad = problem(preparePasswordHash(SAMPLE_HASHES.ssha, { saltPosition: "middle" }));
  deepEqual(bad, {
    column: "password_salt_position",
    reason: '"password_salt_position" is "middle": use prefix or suffix (the default)',
  });
  const other = preparePasswordHash(SAMPLE_HASHES.bcrypt, { saltPosition: "prefix" });
  ok(other.ok);
  deepEqual(other.value.warnings, [
    'Ignoring "password_salt_position": it applies to ssha and ssha256 hashes, not bcrypt',
  ]);
  equal(other.value.saltPosition, undefined);
});

const CONSOLE_BLOCK = `hash_config {
  algorithm: SCRYPT,
  base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
  base64_salt_separator: Bw==,
  rounds: 8,
  mem_cost: 14,
}`;

Deno.test("parseFirebaseHashConfig() reads the console's block and JSON in either case", () => {
  const expected = {
    signerKey:
      "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    saltSeparator: "Bw==",
    rounds: 8,
    memCost: 14,
  };
  deepEqual(parseFirebaseHashConfig(CONSOLE_BLOCK), expected);
  deepEqual(
    parseFirebaseHashConfig(JSON.stringify({
      algorithm: "SCRYPT",
      base64_signer_key: expected.signerKey,
      base64_salt_separator: "Bw==",
      rounds: 8,
      mem_cost: 14,
    })),
    expected,
  );
  deepEqual(
    parseFirebaseHashConfig(JSON.stringify({
      hashConfig: {
        algorithm: "SCRYPT",
        base64SignerKey: expected.signerKey,
        base64SaltSeparator: "Bw==",
        rounds: 8,
        memCost: 14,
      },
    })),
    expected,
  );
});

Deno.test("parseFirebaseHashConfig() names the field that is missing or wrong", () => {
  const cases: [string, RegExp][] = [
    [CONSOLE_BLOCK.replace("SCRYPT", "HMAC_SHA256"), /"algorithm" is "HMAC_SHA256"/],
    [CONSOLE_BLOCK.replace(/base64_signer_key.*\n/, ""), /"base64_signer_key" is missing/],
    [CONSOLE_BLOCK.replace("Bw==", "B!w"), /"base64_salt_separator" is not base64/],
    [CONSOLE_BLOCK.replace("rounds: 8", "rounds: 9"), /"rounds" is "9": Firebase uses 1 to 8/],
    [CONSOLE_BLOCK.replace("mem_cost: 14", "mem_cost: x"), /"mem_cost" is "x"/],
    ["{not json", /is not JSON/],
  ];
  for (const [text, pattern] of cases) {
    throws(() => parseFirebaseHashConfig(text), (error: Error) => {
      ok(error instanceof FirebaseHashConfigError);
      match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("firebaseScryptHash() writes WorkOS's firebase-scrypt string from an export", () => {
  const config = parseFirebaseHashConfig(CONSOLE_BLOCK);
  const result = firebaseScryptHash({
    passwordHash:
      "lSrfV15cpx95_sZS2W9c9Kp6i_LVgQNDNC_qzrCnh1SAyZvqmZqAjTdn3aoItz-VHjoZilo78198JAdRuid5lQ==",
    salt: "42xEC+ixf3L2lw==",
  }, config);
  deepEqual(sent(result), {
    hash: "$firebase-scrypt$hash=lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+" +
      "VHjoZilo78198JAdRuid5lQ$salt=42xEC+ixf3L2lw$sk=jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMX" +
      "An210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA$ss=Bw$r=8$m=14",
    type: "firebase-scrypt",
    converted: true,
  });
  // What it writes passes the row checks as it is.
  const again = preparePasswordHash(result.ok ? result.value.hash : "");
  equal(again.ok && again.value.converted, false);
  const bad = firebaseScryptHash({ passwordHash: "not base64!", salt: "c2FsdA==" }, config);
  match(problem(bad).reason, /"passwordHash" is not base64/);
});

Deno.test("writePhc writes what @phc/format's serialize wrote, without loading an npm package", async () => {
  // @phc/format is the oracle here only: the importer no longer loads it, so
  // an offline pass starts no Node compatibility layer for it.
  const { default: phcFormat } = await import("@phc/format");
  const { Buffer } = await import("node:buffer");
  const serialize = (phcFormat as {
    serialize(options: Record<string, unknown>): string;
  }).serialize;
  function oracle(parts: PhcParts): string {
    try {
      return serialize({
        id: parts.id,
        version: parts.version,
        params: Object.fromEntries(parts.params),
        salt: Buffer.from(parts.salt),
        hash: Buffer.from(parts.hash),
      });
    } catch {
      return "";
    }
  }
  const bytes = (length: number, seed: number) =>
    Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
  const cases: PhcParts[] = [
    {
      id: "pbkdf2",
      params: [["i", "600000"], ["d", "sha256"]],
      salt: bytes(16, 1),
      hash: bytes(32, 2),
    },
    {
      id: "argon2id",
      version: 19,
      params: [["m", "65536"], ["t", "3"], ["p", "4"]],
      salt: bytes(16, 3),
      hash: bytes(32, 4),
    },
    {
      id: "scrypt",
      params: [["n", "16384"], ["r", "8"], ["p", "1"]],
      salt: bytes(1, 5),
      hash: bytes(2, 6),
    },
    { id: "scrypt", params: [], salt: bytes(0, 0), hash: bytes(0, 0) },
    {
      id: "argon2i",
      version: 0,
      params: [["m", "1"], ["m", "2"], ["10", "x"], ["a", "b/+.-Z"]],
      salt: bytes(5, 7),
      hash: bytes(7, 8),
    },
    // Outside PHC's alphabet or ranges: both give "".
    { id: "Pbkdf2", params: [], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "a".repeat(33), params: [], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "argon2id", version: -1, params: [], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "argon2id", version: 1.5, params: [], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "pbkdf2", params: [["I", "1"]], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "pbkdf2", params: [["i", "1$"]], salt: bytes(4, 0), hash: bytes(4, 0) },
    { id: "pbkdf2", params: [["i", ""]], salt: bytes(4, 0), hash: bytes(4, 0) },
  ];
  for (const parts of cases) equal(writePhc(parts), oracle(parts), JSON.stringify(parts));
  equal(writePhc(cases[0]), oracle(cases[0]));
  ok(writePhc(cases[0]).startsWith("$pbkdf2$i=600000,d=sha256$"));
});
