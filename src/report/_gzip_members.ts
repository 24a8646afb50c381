// The audit log's compressed form: a file of gzip members (RFC 1952), one per
// write, which any gzip reader reads as one file (`zcat`, `zgrep`: concatenated
// members are one valid gzip stream). Each member says in its header (an
// extra field, which gzip readers skip) its own length and the length of the
// member before it, so a reader finds the end of the last whole member in a
// forward pass over the headers alone and then walks back member by member:
// newest first at flat memory, whatever the size of the log. A crash mid-write
// leaves a member shorter than its header says; readers skip it, as they skip
// a torn last line of a plain log, and a log opened for appending cuts it off
// first (a torn member in the middle would hide every later one from `zcat`).

//
// The compression itself is the web's CompressionStream (zlib's default
// level), not node:zlib: importing node:zlib loads Deno's Node
// compatibility scripts, 15-50 ms of CPU at the start of every job.

/** The extra field's subfield id: "WA" (WorkOS audit). */
const SI1 = 0x57;
const SI2 = 0x41;
/** Header: 10 fixed bytes, XLEN, then one subfield (4 bytes + 8 of data). */
export const MEMBER_HEADER_BYTES = 24;
const TRAILER_BYTES = 8;

/** Where the deflate data of a gzip member starts: past its header's optional fields. */
function dataOffset(gzip: Uint8Array): number {
  const flags = gzip[3];
  let offset = 10;
  if (flags & 4) offset += 2 + (gzip[10] | (gzip[11] << 8)); // FEXTRA
  if (flags & 8) offset = gzip.indexOf(0, offset) + 1; // FNAME
  if (flags & 16) offset = gzip.indexOf(0, offset) + 1; // FCOMMENT
  if (flags & 2) offset += 2; // FHCRC
  return offset;
}

/** All of `data` through a compression or decompression stream. */
async function through(
  data: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  // Not awaited: the readable side below is what drains it.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream.readable) {
    chunks.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Whether bytes begin like a gzip file. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * One member holding `data`, its header naming its own length and
 * `previous`, the length of the member before it (0: it is the first).
 */
export async function gzipMember(data: Uint8Array, previous: number): Promise<Uint8Array> {
  // The stream's own member, with its CRC and length trailer; its header is
  // replaced by one that names the lengths.
  const gzip = await through(data, new CompressionStream("gzip"));
  const body = gzip.subarray(dataOffset(gzip));
  const length = MEMBER_HEADER_BYTES + body.length;
  const member = new Uint8Array(length);
  const view = new DataView(member.buffer);
  // ID1 ID2 CM=deflate FLG=FEXTRA, MTIME 0, XFL 0, OS 255 (unknown).
  member.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255]);
  view.setUint16(10, 12, true);
  member[12] = SI1;
  member[13] = SI2;
  view.setUint16(14, 8, true);
  view.setUint32(16, length, true);
  view.setUint32(20, previous, true);
  member.set(body, MEMBER_HEADER_BYTES);
  return member;
}

/** A member's length and its predecessor's, from its header; `undefined` if not one of ours. */
export function memberHeader(
  header: Uint8Array,
): { length: number; previous: number } | undefined {
  if (header.length < MEMBER_HEADER_BYTES || !isGzip(header)) return undefined;
  if (header[2] !== 8 || header[3] !== 4) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (view.getUint16(10, true) !== 12 || header[12] !== SI1 || header[13] !== SI2) {
    return undefined;
  }
  if (view.getUint16(14, true) !== 8) return undefined;
  const length = view.getUint32(16, true);
  if (length < MEMBER_HEADER_BYTES + TRAILER_BYTES) return undefined;
  return { length, previous: view.getUint32(20, true) };
}

/** The data of one whole member (its CRC and length checked); throws when it is damaged. */
export function gunzipMember(member: Uint8Array): Promise<Uint8Array> {
  return through(member, new DecompressionStream("gzip"));
}

/** Reads exactly `length` bytes at `position`, or fewer at the end of the file. */
export async function readAt(
  file: Deno.FsFile,
  position: number,
  length: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  await file.seek(position, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const read = await file.read(bytes.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return filled === length ? bytes : bytes.subarray(0, filled);
}

/** Where the whole members of a file end, and the last one's place. */
export interface MemberScan {
  /** Bytes of whole members from the start (past it: a torn member, or nothing). */
  end: number;
  /** The last whole member's start (meaningless when there is none). */
  lastStart: number;
  /** The last whole member's length (0: there is none). */
  lastLength: number;
}

/**
 * Walks the member headers from the start, `onMember` told each whole
 * member, and stops at the first that is not whole (a crash's torn tail) or
 * not one of ours. Reads the file in 64 KiB windows: a header per member, no
 * decompression, flat memory.
 */
export async function scanMembers(
  file: Deno.FsFile,
  size: number,
  onMember?: (start: number, length: number) => void,
): Promise<MemberScan> {
  const WINDOW = 65_536;
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = 0;
  let position = 0;
  let lastStart = 0;
  let lastLength = 0;
  while (position + MEMBER_HEADER_BYTES <= size) {
    if (
      position < windowStart || position + MEMBER_HEADER_BYTES > windowStart + window.length
    ) {
      window = await readAt(file, position, Math.min(WINDOW, size - position));
      windowStart = position;
    }
    const offset = position - windowStart;
    const header = memberHeader(window.subarray(offset, offset + MEMBER_HEADER_BYTES));
    if (!header || header.previous !== lastLength || position + header.length > size) break;
    onMember?.(position, header.length);
    lastStart = position;
    lastLength = header.length;
    position += header.length;
  }
  return { end: position, lastStart, lastLength };
}

/**
 * The decompressed bytes of each whole member of a compressed log, first to
 * last (a torn member at the end is not one).
 */
export async function* decompressedMembers(
  file: Deno.FsFile,
  size: number,
): AsyncGenerator<Uint8Array> {
  const members: Array<[number, number]> = [];
  await scanMembers(file, size, (start, length) => members.push([start, length]));
  for (const [start, length] of members) {
    yield await gunzipMember(await readAt(file, start, length));
  }
}
