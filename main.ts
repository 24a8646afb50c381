/**
 * The `workos-importer` command. `deno compile` builds the binary from this
 * file.
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
