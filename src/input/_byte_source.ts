// Chunked byte readers over files and streams that know their absolute
// position, can give bytes back, and can move forward to an offset: a file by
// seeking, a stream by discarding what lies before it.

/**
 * Bytes handed on per chunk; sets the size of record batches (about 200
 * CSV rows). Small enough that the batches in flight between a run's
 * stages (five or six of them) die young: with 128 KiB chunks they outlived
 * a scavenge of the CLI's 4 MB semi-spaces, and a 200,000-row dry run
 * promoted 115 MB of them into the old generation (5 MB with 32 KiB) and
 * paid for seven old-generation collections (none with 32 KiB).
 */
export const CHUNK_SIZE = 32 * 1024;

/**
 * Bytes read from a file at once, handed on {@linkcode CHUNK_SIZE} at a
 * time: each read is an async op and a fresh buffer.
 */
export const FILE_READ_SIZE = 128 * 1024;

/** A source of byte chunks at known absolute offsets. */
export interface ByteSource {
  /** Absolute offset of the next byte `read` returns. */
  readonly position: number;
  /** The next chunk, or `null` at the end. Never an empty chunk. */
  read(): Promise<Uint8Array | null>;
  /** Gives bytes back; the next `read` returns them first. */
  unread(bytes: Uint8Array): void;
  /** Moves forward to an absolute offset. */
  skipTo(offset: number): Promise<void>;
  /** Releases the file or stream. Safe to call more than once. */
  close(): void;
  /**
   * Gives back a chunk `read` returned whose bytes nobody holds any more, so
   * that a later read may fill its buffer again instead of a fresh one (a
   * count keeps nothing of a chunk). Optional; a chunk it cannot take is
   * left alone.
   */
  recycle?(chunk: Uint8Array): void;
}

/**
 * Bytes read from a provider's export at once, handed on {@linkcode CHUNK_SIZE}
 * at a time: its users are 400–500 bytes each against a CSV row's 60–160, and
 * each read is an async op and a fresh buffer, while chunks (and so record
 * batches, and what is alive at once) stay the size they are for a CSV.
 */
export const LARGE_READ_SIZE = 1024 * 1024;

/**
 * Opens a file as a byte source at offset 0.
 *
 * @param readSize Bytes read from the file at once (a multiple of
 *   {@linkcode CHUNK_SIZE}); chunks are {@linkcode CHUNK_SIZE} whatever it is.
 */
export async function openFileSource(
  path: string,
  readSize: number = FILE_READ_SIZE,
): Promise<ByteSource> {
  const file = await Deno.open(path, { read: true });
  return new FileSource(file, readSize);
}

/** Wraps a byte stream (stdin or any other) as a byte source. */
export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  return new StreamSource(stream.getReader());
}

/**
 * A source's bytes from its position on, as a stream read chunk by chunk as
 * asked for; the source is released at its end or when the stream is cancelled.
 */
export function chunksOf(source: ByteSource): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Uint8Array | null;
      try {
        chunk = await source.read();
      } catch (error) {
        source.close();
        throw error;
      }
      if (chunk === null) {
        source.close();
        controller.close();
      } else {
        controller.enqueue(chunk);
      }
    },
    cancel() {
      source.close();
    },
  }, { highWaterMark: 0 });
}

abstract class BaseSource implements ByteSource {
  #pending: Uint8Array[] = [];
  #position = 0;
  /** Bytes of the last buffer read and not handed on yet. */
  #rest: Uint8Array | null = null;

  get position(): number {
    return this.#position;
  }

  async read(): Promise<Uint8Array | null> {
    const pending = this.#pending.pop();
    if (pending !== undefined) {
      this.#position += pending.length;
      return pending;
    }
    for (;;) {
      const chunk = await this.#nextChunk();
      if (chunk === null) return null;
      if (chunk.length === 0) continue;
      this.#position += chunk.length;
      return chunk;
    }
  }

  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#pending.push(bytes);
    this.#position -= bytes.length;
  }

  async skipTo(offset: number): Promise<void> {
    if (offset < this.#position) {
      throw new RangeError(
        `Cannot move back to byte ${offset}: the input is already at byte ${this.#position}`,
      );
    }
    if (offset === this.#position) return;
    const landed = await this.seek(offset);
    if (landed !== undefined) {
      this.#pending = [];
      this.#rest = null;
      this.#position = landed;
      return;
    }
    while (this.#position < offset) {
      const chunk = await this.read();
      if (chunk === null) return;
      const over = this.#position - offset;
      if (over > 0) this.unread(chunk.subarray(chunk.length - over));
    }
  }

  /**
   * Hands a buffer on {@linkcode CHUNK_SIZE} at a time, whatever its source
   * read at once: a file reads {@linkcode FILE_READ_SIZE} and stdin gives
   * 64 KiB chunks, whose record batches (1,100 rows of a users-only file)
   * outlived a scavenge, so that most dry runs on stdin promoted what every
   * batch held into the old generation (1M people: 168–192 MiB promoted in
   * five runs of six, peaks 109–131 MiB; the sixth 5.9 MiB and 88.7 MiB).
   */
  async #nextChunk(): Promise<Uint8Array | null> {
    let rest = this.#rest;
    if (rest === null) {
      rest = await this.readBuffer();
      if (rest === null) return null;
    }
    if (rest.length <= CHUNK_SIZE) {
      this.#rest = null;
      return rest;
    }
    this.#rest = rest.subarray(CHUNK_SIZE);
    return rest.subarray(0, CHUNK_SIZE);
  }

  /** Whether part of the last buffer read is still to be handed on. */
  protected get holdsRest(): boolean {
    return this.#rest !== null;
  }

  /** Forgets the part of the last buffer read not handed on yet. */
  protected dropRest(): void {
    this.#rest = null;
  }

  /** Reads the next buffer, of any size, from the underlying file or stream. */
  protected abstract readBuffer(): Promise<Uint8Array | null>;
  /** Seeks to an absolute offset, or returns `undefined` when it cannot. */
  protected abstract seek(offset: number): Promise<number | undefined>;
  abstract close(): void;
}

class FileSource extends BaseSource {
  #file: Deno.FsFile;
  #closed = false;
  readonly #readSize: number;
  /**
   * The next read, started as soon as the last one arrived, so that the
   * disk (or page cache) works while the chunks before are parsed.
   */
  #ahead: Promise<Uint8Array | null> | undefined;
  /** A whole read buffer given back by {@linkcode recycle}, for the next read. */
  #spare: Uint8Array | undefined;

  constructor(file: Deno.FsFile, readSize: number) {
    super();
    this.#file = file;
    this.#readSize = Math.max(CHUNK_SIZE, readSize);
  }

  protected async readBuffer(): Promise<Uint8Array | null> {
    const next = this.#ahead ?? this.#readFile();
    this.#ahead = undefined;
    const buffer = await next;
    if (buffer === null) return null;
    if (!this.#closed) {
      this.#ahead = this.#readFile();
      // Its failure is told to the read that takes it, not left unhandled.
      this.#ahead.catch(() => {});
    }
    return buffer;
  }

  /**
   * Takes back the buffer of one read once its last chunk is given back
   * (every chunk of it was handed on before, and `recycle`'s caller, a
   * count, copied each before asking for the next): the read after the one
   * in flight fills it again. A short read's copy is left alone.
   * Why: a fresh buffer per read is freed only when V8 collects it, and a
   * count allocates little else, so V8 waited for its external-memory limit
   * (about 64 MB) and the allocator kept those pages for the rest of the
   * run: a 1M-row file's count before an import left 45 MiB resident.
   */
  recycle(chunk: Uint8Array): void {
    const size = this.#readSize;
    if (
      !this.holdsRest && chunk.buffer.byteLength === size &&
      chunk.byteOffset + chunk.length === size
    ) this.#spare = new Uint8Array(chunk.buffer);
  }

  async #readFile(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    const size = this.#readSize;
    const buffer = this.#spare ?? new Uint8Array(size);
    this.#spare = undefined;
    const count = await this.#file.read(buffer);
    if (count === null) {
      this.close();
      return null;
    }
    // A short read would pin a whole buffer for a few bytes.
    return count < size / 2 ? buffer.slice(0, count) : buffer.subarray(0, count);
  }

  protected async seek(offset: number): Promise<number | undefined> {
    // A read under way moves the file's position: let it land first.
    const ahead = this.#ahead;
    this.#ahead = undefined;
    await ahead?.catch(() => {});
    // At the end already, the bytes left are read forward instead.
    if (this.#closed) return undefined;
    this.dropRest();
    return await this.#file.seek(offset, Deno.SeekMode.Start);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}

class StreamSource extends BaseSource {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done = false;

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    super();
    this.#reader = reader;
  }

  protected async readBuffer(): Promise<Uint8Array | null> {
    if (this.#done) return null;
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#done = true;
      return null;
    }
    return value;
  }

  protected seek(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  close(): void {
    this.dropRest();
    if (this.#done) return;
    this.#done = true;
    this.#reader.cancel().catch(() => {});
  }
}
