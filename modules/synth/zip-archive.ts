import * as zlib from "zlib";

/** The DOS date and time every entry carries (1980-01-01 00:00): the same bytes for the same files, whenever made. */
const FIXED_DOS_TIME = 0;
const FIXED_DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** Version needed, flags, method, time, date, CRC-32, sizes and name length: the fields every zip entry record repeats. */
function writeEntryFields(record: Buffer, at: number, fields: { crc: number; compressedSize: number; size: number; nameLength: number }): void {
  record.writeUInt16LE(20, at); // version needed: 2.0
  record.writeUInt16LE(0x0800, at + 2); // UTF-8 names
  record.writeUInt16LE(8, at + 4); // deflate
  record.writeUInt16LE(FIXED_DOS_TIME, at + 6);
  record.writeUInt16LE(FIXED_DOS_DATE, at + 8);
  record.writeUInt32LE(fields.crc, at + 10);
  record.writeUInt32LE(fields.compressedSize, at + 14);
  record.writeUInt32LE(fields.size, at + 18);
  record.writeUInt16LE(fields.nameLength, at + 22);
}

/**
 * A zip archive of the given files (path inside the archive → content),
 * deflated, in sorted path order, with fixed timestamps and permissions:
 * the same files always give the same bytes.
 */
export function zipArchive(files: ReadonlyMap<string, Buffer>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of [...files.keys()].sort()) {
    const content = files.get(name)!;
    const nameBytes = Buffer.from(name, "utf8");
    const deflated = zlib.deflateRawSync(content, { level: 9 });
    const crc = zlib.crc32(content);
    // The local header and the central directory entry share these fields, at different offsets.
    const fields = { crc, compressedSize: deflated.length, size: content.length, nameLength: nameBytes.length };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    writeEntryFields(local, 4, fields);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    writeEntryFields(central, 6, fields);
    central.writeUInt32LE(((0o100644 << 16) >>> 0), 38); // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, deflated);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + deflated.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.size, 8);
  end.writeUInt16LE(files.size, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
