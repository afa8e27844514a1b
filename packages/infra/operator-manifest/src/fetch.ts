/**
 * The auditor's side: fetch a relay's signed manifest from where it is published (its
 * well-known URL, or the URL its directory entry names), and verify it against the
 * operator keys the auditor trusts. What comes back is what the operator signed; comparing
 * it with what the relay is seen to do is the auditor's work.
 */
import http from 'node:http';
import https from 'node:https';
import { DirectoryError, type SignedEnvelope, type TrustedKeys } from '@splitrelay/directory';
import { MAX_MANIFEST_BYTES, verifyManifest, type Manifest } from '@splitrelay/egress-addresses';

export interface FetchManifestOptions {
  /** Unix seconds at which it must be valid; default now. */
  readonly now?: number;
  /** CA certificates (PEM) for an https URL, instead of the system store. */
  readonly ca?: string | readonly string[];
  readonly timeoutMs?: number;
  /** Source address of the request (an auditor's lab address). */
  readonly localAddress?: string;
}

export interface FetchedManifest {
  readonly manifest: Manifest;
  readonly signed: SignedEnvelope;
}

/** The body of one GET, bounded; rejects on a non-200 answer. */
function get(url: URL, options: FetchManifestOptions): Promise<string> {
  const limit = Math.ceil((MAX_MANIFEST_BYTES * 4) / 3) + 1024;
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (client === undefined) {
      reject(new TypeError(`not an http(s) URL: ${url.href}`));
      return;
    }
    const req = client.get(
      url,
      {
        timeout: options.timeoutMs ?? 10_000,
        agent: false,
        ...(options.ca ? { ca: options.ca as string[] } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit)
            req.destroy(new Error(`manifest at ${url.href} is over ${limit} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url.href} answered ${res.statusCode}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.href} did not answer in time`)));
    req.on('error', reject);
  });
}

/**
 * GETs the manifest at `url` and verifies it: signed by a trusted operator key (a tampered
 * byte is DirectoryError 'bad-signature'), valid at `now`, well formed. Network failures
 * reject with an Error saying where.
 */
export async function fetchManifest(
  url: string | URL,
  trustedKeys: TrustedKeys,
  options: FetchManifestOptions = {},
): Promise<FetchedManifest> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const body = await get(target, options);
  let signed: unknown;
  try {
    signed = JSON.parse(body);
  } catch {
    throw new DirectoryError('malformed', `the manifest at ${target.href} is not JSON`);
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return { manifest: verifyManifest(signed, trustedKeys, now), signed: signed as SignedEnvelope };
}
