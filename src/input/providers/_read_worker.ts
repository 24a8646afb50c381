// The read worker's entry (started by _worker_client.ts): a provider's
// export read, parsed and mapped off the main thread.

import { type ReadWorkerScope, serveReads } from "./_worker_host.ts";

serveReads(globalThis as unknown as ReadWorkerScope);
