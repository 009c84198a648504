import { lookup } from 'node:dns/promises';

/** Every address a name resolves to, as host:port (IPv6 in brackets), sorted and unique. */
export async function resolveAddresses(name: string, port: number): Promise<string[]> {
  const records = await lookup(name, { all: true });
  const addresses = records.map((record) => (record.family === 6 ? `[${record.address}]:${port}` : `${record.address}:${port}`));
  return [...new Set(addresses)].sort();
}
