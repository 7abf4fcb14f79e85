/** One JSON POST over HTTPS, trusting only the pinned CA, verifying the chain and the host name. */
import { request } from 'node:https';
import { isIP } from 'node:net';

export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

export function postJson(url: URL, body: unknown, caPem: string, timeoutMs = 30_000): Promise<JsonAnswer> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: caPem,
        rejectUnauthorized: true,
        ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }),
        headers: { 'content-type': 'application/json', 'content-length': data.length, accept: 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { error: 'not_json', message: text.slice(0, 300) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.host} within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(data);
  });
}
