/**
 * A streaming reader for the tar archives GitHub's tarball endpoint serves (`git archive`: POSIX ustar
 * with pax extended headers; GNU long names are understood too). Entries come one at a time and only the
 * ones the caller reads are held in memory: a kernel tarball (1.4 GB unpacked) is never buffered.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface TarEntry {
  /** The path inside the archive, with the first component (GitHub's `owner-repo-sha/`) removed when asked. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** The entry's bytes; entries not read before the next one is asked for are skipped unread. */
  read(): Promise<Buffer>;
}

const BLOCK = 512;

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #len = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<boolean> {
    while (this.#len < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else if (r.value.byteLength > 0) {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.#chunks.push(b);
        this.#len += b.length;
      }
    }
    return this.#len >= n;
  }

  /** Exactly `n` bytes, or null at a clean end of input (nothing left). */
  async read(n: number): Promise<Buffer | null> {
    if (!(await this.#fill(n))) {
      if (this.#len === 0) return null;
      throw new Error('truncated tar archive');
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - off);
      c.copy(out, off, 0, take);
      off += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    this.#len -= n;
    return out;
  }

  /** Drops `n` bytes without copying them. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#len === 0 && !(await this.#fill(1))) throw new Error('truncated tar archive');
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, left);
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
      this.#len -= take;
      left -= take;
    }
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function octal(b: Buffer, start: number, len: number): number {
  // GNU base-256 for sizes of 8 GiB and more: high bit of the first byte set.
  if (b[start]! & 0x80) {
    let v = b[start]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i]!;
    return v;
  }
  const s = cString(b, start, len).trim();
  return s ? Number.parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === octal(h, 148, 8);
}

/** pax records: "<len> <key>=<value>\n". */
function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(body.toString('ascii', off, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = body.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

const padding = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

export interface TarOptions {
  /** Remove the archive's first path component (GitHub wraps everything in `owner-repo-sha/`). */
  stripFirst?: boolean;
}

/** The entries of an uncompressed tar stream. */
export async function* tarEntries(source: AsyncIterable<Uint8Array>, options: TarOptions = {}): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (;;) {
    const h = await r.read(BLOCK);
    if (!h || h.every((x) => x === 0)) return; // end-of-archive blocks (or a clean end)
    if (!checksumOk(h)) throw new Error('not a tar archive (bad header checksum)');
    const flag = String.fromCharCode(h[156]!);
    const headerSize = octal(h, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L') {
      const body = (await r.read(headerSize)) ?? Buffer.alloc(0);
      await r.skip(padding(headerSize));
      if (flag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (flag === 'L') longName = cString(body, 0, body.length);
      // 'g' (global: git archive's commit id) applies to nothing we use.
      continue;
    }
    const size = pax.size !== undefined ? Number(pax.size) : headerSize;
    let name = pax.path ?? longName;
    if (name === undefined) {
      const prefix = h.toString('latin1', 257, 263).startsWith('ustar\0') ? cString(h, 345, 155) : '';
      const base = cString(h, 0, 100);
      name = prefix ? `${prefix}/${base}` : base;
    }
    pax = {};
    longName = undefined;
    if (options.stripFirst) {
      const slash = name.indexOf('/');
      name = slash < 0 ? '' : name.slice(slash + 1);
    }
    name = name.replace(/\/+$/, '');
    const type: TarEntry['type'] =
      flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : flag === '2' ? 'symlink' : 'other';
    let consumed = false;
    const entry: TarEntry = {
      path: name,
      type,
      size: type === 'directory' || type === 'symlink' ? 0 : size,
      read: async () => {
        if (consumed) throw new Error(`tar entry ${name} read twice`);
        consumed = true;
        const body = size === 0 ? Buffer.alloc(0) : await r.read(size);
        if (!body) throw new Error('truncated tar archive');
        await r.skip(padding(size));
        return body;
      },
    };
    yield entry;
    if (!consumed) {
      consumed = true;
      await r.skip(size + padding(size));
    }
  }
}

/** The entries of a gzip-compressed tar stream (a web or Node stream, or any async iterable of bytes). */
export async function* tarGzEntries(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>, options: TarOptions = {}): AsyncGenerator<TarEntry> {
  const input = source instanceof ReadableStream ? Readable.fromWeb(source as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from(source);
  const gunzip = createGunzip();
  // pipeline destroys both ends on an error (and the iteration below then throws it).
  pipeline(input, gunzip, () => {});
  try {
    yield* tarEntries(gunzip, options);
  } finally {
    // Stopping early (an error, a superseded job) aborts the download too.
    gunzip.destroy();
    input.destroy();
  }
}
