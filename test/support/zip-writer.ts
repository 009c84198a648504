import { crc32, deflateRawSync } from 'node:zlib';

/**
 * One entry of a hand-made zip. Every field a hostile archive may lie about can be set:
 * yazl refuses names such as '../x' and never writes inconsistent sizes, so the tests build
 * such zips byte by byte here.
 */
export interface ZipEntrySpec {
  /** Raw name bytes; a string is written as UTF-8 with the UTF-8 flag set. */
  readonly name: string | Buffer;
  readonly data?: Buffer;
  /** 0 stored, 8 deflate (default), anything else written as is with the data stored. */
  readonly method?: number;
  /** Unix mode (type and permission bits) put in the high 16 bits of the external attributes. */
  readonly unixMode?: number;
  /** General purpose flags OR-ed in (bit 0: encrypted). */
  readonly flags?: number;
  /** Overrides the uncompressed size written in both headers. */
  readonly declaredSize?: number;
  /** Overrides the CRC-32 written in both headers. */
  readonly crc?: number;
}

const UTF8_FLAG = 0x800;
const MADE_BY_UNIX = (3 << 8) | 20;

/** A zip holding `entries` in order (ZIP64 end records when there are more than 65,534). */
export function buildZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const spec of entries) {
    const name = typeof spec.name === 'string' ? Buffer.from(spec.name, 'utf8') : spec.name;
    const data = spec.data ?? Buffer.alloc(0);
    const method = spec.method ?? 8;
    const body = method === 8 ? deflateRawSync(data) : data;
    const flags = (spec.flags ?? 0) | (typeof spec.name === 'string' ? UTF8_FLAG : 0);
    const crc = spec.crc ?? crc32(data);
    const size = spec.declaredSize ?? data.length;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((spec.unixMode ?? 0) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  return Buffer.concat([...locals, centralDirectory, endRecords(entries.length, centralDirectory.length, offset)]);
}

function endRecords(count: number, centralSize: number, centralOffset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  if (count < 0xffff) {
    end.writeUInt16LE(count, 8);
    end.writeUInt16LE(count, 10);
    end.writeUInt32LE(centralSize, 12);
    end.writeUInt32LE(centralOffset, 16);
    return end;
  }
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  const zip64End = Buffer.alloc(56);
  zip64End.writeUInt32LE(0x06064b50, 0);
  zip64End.writeBigUInt64LE(44n, 4);
  zip64End.writeUInt16LE(MADE_BY_UNIX, 12);
  zip64End.writeUInt16LE(45, 14);
  zip64End.writeBigUInt64LE(BigInt(count), 24);
  zip64End.writeBigUInt64LE(BigInt(count), 32);
  zip64End.writeBigUInt64LE(BigInt(centralSize), 40);
  zip64End.writeBigUInt64LE(BigInt(centralOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(centralOffset + centralSize), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([zip64End, locator, end]);
}
