/** The variables the preloads read: where to write, and how much to keep. */
export const CAPTURE_ENV = 'SPLITRELAY_CAPTURE';
/** Read bytes kept at most (256 MiB by default); heads and peers are always kept. */
export const CAPTURE_LIMIT_ENV = 'SPLITRELAY_CAPTURE_LIMIT_BYTES';
export const DNS_OBSERVER_ENV = 'SPLITRELAY_DNS_OBSERVER';
