// The validate worker's entry (started by _validate_worker_client.ts): a
// large CSV or NDJSON file read and validated off the main thread.

import { serveValidation, type ValidateWorkerScope } from "./_validate_worker_host.ts";

serveValidation(globalThis as unknown as ValidateWorkerScope);
