/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, written here so the test
 * peers check checksums with their own code rather than with the client library under test.
 * Kafka RecordBatch v2 carries it as a uint32; GCS reports it base64 of the big-endian bytes.
 */
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** Continues a CRC-32C over more bytes: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`. */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The GCS form: base64 of the four big-endian bytes. */
export function crc32cBase64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}
