// Colours for status words on a terminal: ✓ green, ✗ red, warnings yellow.
// Only when the stream is a terminal and NO_COLOR is unset; everywhere else
// lines stay plain, byte for byte.

const GREEN = "\x1b[32m";
const RED = "\x1b[31m";
const YELLOW = "\x1b[33m";
const RESET = "\x1b[0m";

/** Whether lines written to a stream may be coloured. */
export function colorsFor(stream: { isTerminal(): boolean }): boolean {
  return !Deno.noColor && stream.isTerminal();
}

/** The line with its leading status word coloured, when `enabled`. */
export function paintStatus(line: string, enabled: boolean): string {
  if (!enabled) return line;
  if (line.startsWith("✓ ")) return `${GREEN}✓${RESET} ${line.slice(2)}`;
  if (line.startsWith("✗ ")) return `${RED}✗${RESET} ${line.slice(2)}`;
  if (line.startsWith("Warning:")) return `${YELLOW}Warning:${RESET}${line.slice(8)}`;
  if (line.startsWith("! ")) return `${YELLOW}!${RESET} ${line.slice(2)}`;
  return line;
}
