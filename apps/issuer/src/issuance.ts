/**
 * From a request body to token responses, without HTTP: which form (single or batch), is
 * every TokenRequest well formed and for a key that issues now, then the blind signatures.
 * Everything the client did wrong becomes a Refusal; the bytes themselves go nowhere else.
 */
import {
  MEDIA_TYPES,
  PrivacyPassError,
  decodeTokenBatch,
  decodeTokenRequest,
  encodeTokenBatch,
  issueTokenResponse,
  type IssuerKey,
} from '@splitrelay/privacy-pass';
import { Refusal } from './refusal.ts';

export type RequestForm = 'single' | 'batch';

/** The form a Content-Type names, or undefined (415). Parameters and case are ignored. */
export function requestForm(contentType: string | undefined): RequestForm | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (type === MEDIA_TYPES.request) return 'single';
  if (type === MEDIA_TYPES.requestBatch) return 'batch';
  return undefined;
}

export function responseMediaType(form: RequestForm): string {
  return form === 'single' ? MEDIA_TYPES.response : MEDIA_TYPES.responseBatch;
}

function fromPrivacyPass(err: unknown, index: number | undefined): Refusal {
  const where = index === undefined ? 'token request' : `token request ${index}`;
  if (!(err instanceof PrivacyPassError)) return new Refusal('malformed', `${where} is malformed`);
  switch (err.reason) {
    case 'unsupported-type':
      return new Refusal('unsupported-type', `${where} is not token type 2 (Blind RSA)`);
    case 'unknown-key':
      return new Refusal('unknown-key', `${where} names no token key that issues now`);
    case 'too-large':
      return new Refusal('too-large', `${where} is too large`);
    default:
      return new Refusal('malformed', `${where} is malformed`);
  }
}

/**
 * The TokenRequests in `body`, each checked to decode and to name (by its truncated key id) a
 * key among `keys`: the whole request fails before anything is signed or counted.
 */
export function parseTokenRequests(
  body: Uint8Array,
  form: RequestForm,
  maxBatch: number,
  keys: readonly IssuerKey[],
): Uint8Array[] {
  let items: Uint8Array[];
  if (form === 'single') {
    items = [body];
  } else {
    try {
      items = decodeTokenBatch(body, maxBatch);
    } catch (err) {
      if (err instanceof PrivacyPassError && err.reason === 'too-large') {
        throw new Refusal('too-many', `a batch holds at most ${maxBatch} token requests`);
      }
      throw new Refusal('malformed', 'batch framing is malformed');
    }
  }
  const known = new Set(keys.map((k) => k.tokenKey.truncatedId));
  items.forEach((item, i) => {
    const index = form === 'single' ? undefined : i;
    let truncatedId: number;
    try {
      truncatedId = decodeTokenRequest(item).truncatedTokenKeyId;
    } catch (err) {
      throw fromPrivacyPass(err, index);
    }
    if (!known.has(truncatedId)) {
      const where = index === undefined ? 'token request' : `token request ${index}`;
      throw new Refusal('unknown-key', `${where} names no token key that issues now`);
    }
  });
  return items;
}

/** Signs every request; the response body in the same form as the request. */
export async function issueAll(
  requests: readonly Uint8Array[],
  form: RequestForm,
  keys: readonly IssuerKey[],
): Promise<Uint8Array> {
  const responses: Uint8Array[] = [];
  for (const [i, request] of requests.entries()) {
    try {
      responses.push(await issueTokenResponse(request, keys));
    } catch (err) {
      throw fromPrivacyPass(err, form === 'single' ? undefined : i);
    }
  }
  return form === 'single' ? responses[0]! : encodeTokenBatch(responses);
}
