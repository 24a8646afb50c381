/**
 * Input's public face: what an import can read from, and where it resumes.
 *
 * @module
 */

export type { InputSource, ResumePoint } from "./input_options.ts";
export type { ProviderName, ProviderSpec } from "./providers/mod.ts";
