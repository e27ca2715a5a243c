// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the checksum of
// iSCSI, ext4 metadata and many write-ahead logs. It detects all burst errors
// up to 32 bits and is stronger than zlib's CRC-32 on short records. Node 20
// ships only CRC-32, so this is a table-driven slice-by-8 implementation:
// eight 256-entry tables, one step per 8 input bytes.

const POLYNOMIAL = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const first = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    first[n] = c >>> 0;
  }
  const tables = [first];
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1]!;
    const next = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = previous[n]!;
      next[n] = ((p >>> 8) ^ first[p & 0xff]!) >>> 0;
    }
    tables.push(next);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/**
 * CRC-32C of `data`. Pass the result of an earlier call as `previous` to
 * continue over concatenated input: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  let i = 0;
  const end = data.length;
  for (; end - i >= 8; i += 8) {
    const low = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc =
      T7[low & 0xff]! ^ T6[(low >>> 8) & 0xff]! ^ T5[(low >>> 16) & 0xff]! ^ T4[low >>> 24]! ^
      T3[data[i + 4]!]! ^ T2[data[i + 5]!]! ^ T1[data[i + 6]!]! ^ T0[data[i + 7]!]!;
  }
  for (; i < end; i++) crc = T0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
