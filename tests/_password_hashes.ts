/**
 * One well-formed hash of every WorkOS type (WorkOS's documented examples
 * where it gives one), for tests that need a hash that passes the checks.
 *
 * @module
 */

/** A valid hash per WorkOS `password_hash_type`. */
export const SAMPLE_HASHES: Readonly<Record<string, string>> = Object.freeze({
  "bcrypt": "$2b$12$MBhdaPLJ0CBJZbBXza3h.S0phRZpLJuKrqfD4NuIjsWGDbjIbKuh4",
  "firebase-scrypt": "$firebase-scrypt$hash=aGFzaA$salt=c2FsdA$sk=a2V5$ss=Bw$r=8$m=14",
  "ssha": "{SSHA}" + btoa("s".repeat(20) + "salt"),
  "ssha256": "{SSHA256}" + btoa("s".repeat(32) + "salt"),
  "scrypt":
    "$scrypt$v=1$n=16384,r=8,p=1,kl=64$Swhqd4iUYTtWfbCYIPeuMw$q7pfdBQMJujd5FX/qX+ozM2O6aNqP+mo1ZnHGH15XM2vlhroQfPA037UpbdfpH4H66OrSPjsUhfkAMuNoBiQvw",
  "pbkdf2":
    "$pbkdf2$i=600000,d=sha256$T2ptRFh6MXhDQVh2SWZuUGdpQXBUTg$xXiyTisD7390NijyCv5ICMhFW4eDuMlzypRoLGLyIvA",
  "argon2": "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
});
