// The chunk loop the CSV and NDJSON record readers share: read a chunk, hand
// it (after the bytes the last one left unfinished) to the format's parser,
// and keep what that parser leaves for the next read. The loop keeps the
// carried bytes and the source position in step, which is what makes each
// record's byte offset exact.

import type { SourceRecord } from "../types.ts";
import type { ByteSource } from "./_byte_source.ts";
import { concatBytes, emptyBytes } from "./_bytes.ts";

/** Streams records in batches, one chunk of the source at a time. */
export abstract class ChunkedRecordReader {
  readonly #source: ByteSource;
  #carry = emptyBytes();
  #done = false;
  /**
   * Records found so far, blank lines aside: {@linkcode process} adds to it.
   * A field rather than a `#private` one so that subclasses can count.
   */
  protected recordsFound = 0;
  /** Counting mode: {@linkcode process} finds records without decoding them. */
  protected countOnly = false;
  /**
   * Whether {@linkcode process} in counting mode keeps no view of its buffer
   * but the carry it returns, so that {@linkcode count} may copy each chunk
   * into one work buffer and give the chunk back to the source.
   */
  protected countKeepsNoBytes = false;

  /** @param source Positioned at the start of a record. */
  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** The next batch of records (never empty), or `null` at the end. */
  async next(): Promise<SourceRecord[] | null> {
    const batch: SourceRecord[] = [];
    while (batch.length === 0 && !this.#done) await this.#step(batch);
    return batch.length === 0 ? null : batch;
  }

  /**
   * The reader as a stream stage: the source's bytes from its position now
   * in, record batches out (one per chunk that completes any). The format's
   * own parser ({@linkcode process}) is the engine, so records and their
   * byte offsets are exactly those {@linkcode next} reads.
   *
   * @returns The stage; write it the source's chunks from its position on.
   */
  transform(): TransformStream<Uint8Array, SourceRecord[]> {
    // Absolute offset of the byte after the last chunk written.
    let position = this.#source.position;
    const step = (chunk: Uint8Array | null): SourceRecord[] => {
      const batch: SourceRecord[] = [];
      const base = position - this.#carry.length;
      const buf = chunk === null ? this.#carry : concatBytes(this.#carry, chunk);
      if (chunk !== null) position += chunk.length;
      this.#carry = this.process(buf, base, chunk === null, batch);
      if (chunk === null) this.#done = true;
      return batch;
    };
    return new TransformStream({
      transform(chunk, controller) {
        if (chunk.length === 0) return;
        const batch = step(chunk);
        if (batch.length > 0) controller.enqueue(batch);
      },
      flush(controller) {
        const batch = step(null);
        if (batch.length > 0) controller.enqueue(batch);
      },
    });
  }

  /** Reads to the end and returns how many records there were. */
  async count(): Promise<number> {
    this.countOnly = true;
    const sink: SourceRecord[] = [];
    if (!this.countKeepsNoBytes) {
      while (!this.#done) {
        await this.#step(sink);
        sink.length = 0;
      }
      return this.recordsFound;
    }
    // One work buffer for carry + chunk, and each chunk given back once
    // copied: no allocation per chunk (see FileSource's recycle for why).
    let work = new Uint8Array(0);
    while (!this.#done) {
      const carry = this.#carry;
      const base = this.#source.position - carry.length;
      const chunk = await this.#source.read();
      if (chunk === null) {
        this.#carry = this.process(carry, base, true, sink);
        this.#done = true;
        break;
      }
      const length = carry.length + chunk.length;
      if (work.length < length) {
        const grown = new Uint8Array(Math.max(length, work.length * 2));
        grown.set(carry);
        work = grown;
      } else if (carry.buffer === work.buffer) {
        work.copyWithin(0, carry.byteOffset, carry.byteOffset + carry.length);
      } else work.set(carry);
      work.set(chunk, carry.length);
      this.#source.recycle?.(chunk);
      this.#carry = this.process(work.subarray(0, length), base, false, sink);
      sink.length = 0;
    }
    return this.recordsFound;
  }

  /**
   * Adds the records `buf` completes to `batch`.
   *
   * @param buf The carried bytes followed by the chunk just read.
   * @param base Absolute offset of `buf[0]` in the input.
   * @param eof Whether `buf` ends the input.
   * @param batch Where completed records go.
   * @returns The bytes to carry to the next chunk: the start of a record
   *   `buf` does not complete (empty when there is none, or none to keep).
   */
  protected abstract process(
    buf: Uint8Array,
    base: number,
    eof: boolean,
    batch: SourceRecord[],
  ): Uint8Array;

  /** Reads one chunk and adds the records it completes to `batch`. */
  async #step(batch: SourceRecord[]): Promise<void> {
    const base = this.#source.position - this.#carry.length;
    const chunk = await this.#source.read();
    const eof = chunk === null;
    const buf = eof ? this.#carry : concatBytes(this.#carry, chunk);
    this.#carry = this.process(buf, base, eof, batch);
    if (eof) this.#done = true;
  }
}
