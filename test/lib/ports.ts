/** Ports for tests. */
import { createServer, type AddressInfo } from 'node:net';

/** A port nothing listens on: an uplink pointed at it keeps retrying, so nothing is ever acknowledged or deleted. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
