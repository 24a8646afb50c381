/**
 * Number formatting shared by the summary box and the progress line.
 *
 * @module
 */

/**
 * An integer with comma thousands separators ("1,000,000"), independent of
 * the machine's locale so that logs read the same everywhere. The CLI
 * formats counts with it, never with `toLocaleString`: ICU's first call
 * maps about 6 MB into every run (tests/cli_module_graph_test.ts checks).
 */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const sign = value < 0 ? "-" : "";
  const digits = String(Math.round(Math.abs(value)));
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return sign + out;
}

/** A rate with one decimal, or none from 100 up ("4.2", "48.3", "1,250"). */
export function formatRate(value: number): string {
  if (!Number.isFinite(value) || value < 0) return "0.0";
  return value < 100 ? value.toFixed(1) : formatCount(value);
}
