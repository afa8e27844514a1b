/**
 * The privacy table of draft-scalone-cfr-source-privacy (Table 1): for each party, whether
 * it knows the source (the client), knows the destination (the target), and sees the
 * content. SplitRelay's parties and what each is expected to learn:
 *
 * | party         | knows source | knows destination | sees content |
 * | ------------- | ------------ | ----------------- | ------------ |
 * | client        | yes          | yes               | yes          |
 * | ingress       | yes          | no                | no           |
 * | egress        | no           | yes               | no           |
 * | issuer        | yes          | no                | no           |
 * | control plane | no           | no                | no           |
 *
 * The issuer knows its subscriber (it checks the credential) but, through blind signatures,
 * never which token is spent where; the egress learns the target but not content the client
 * encrypts end to end to it. Each cell compares this expectation with what the evidence
 * shows: green when they agree, red when they do not, and neither when the observation is
 * not applicable or cannot be made from outside.
 */
import type { CheckResult, EvidenceInput } from './verdict.ts';

export type Party = 'client' | 'ingress' | 'egress' | 'issuer' | 'control-plane';
export type Property = 'knows-source' | 'knows-destination' | 'sees-content';

export const PARTIES: readonly Party[] = ['client', 'ingress', 'egress', 'issuer', 'control-plane'];
export const PROPERTIES: readonly Property[] = [
  'knows-source',
  'knows-destination',
  'sees-content',
];

export const PARTY_NAMES: Readonly<Record<Party, string>> = {
  client: 'client',
  ingress: 'ingress',
  egress: 'egress',
  issuer: 'issuer',
  'control-plane': 'control plane',
};

export const PROPERTY_NAMES: Readonly<Record<Property, string>> = {
  'knows-source': 'knows source',
  'knows-destination': 'knows destination',
  'sees-content': 'sees content',
};

export const EXPECTED: Readonly<Record<Party, Readonly<Record<Property, boolean>>>> = {
  client: { 'knows-source': true, 'knows-destination': true, 'sees-content': true },
  ingress: { 'knows-source': true, 'knows-destination': false, 'sees-content': false },
  egress: { 'knows-source': false, 'knows-destination': true, 'sees-content': false },
  issuer: { 'knows-source': true, 'knows-destination': false, 'sees-content': false },
  'control-plane': { 'knows-source': false, 'knows-destination': false, 'sees-content': false },
};

export type Observation = boolean | 'unknown' | 'not-applicable';

export interface CellInput {
  readonly party: Party;
  readonly property: Property;
  readonly observed: Observation;
  readonly evidence?: readonly EvidenceInput[];
  /** Ids of the checks this observation rests on. */
  readonly checks?: readonly string[];
  readonly note?: string;
}

export interface PrivacyCell {
  readonly party: Party;
  readonly property: Property;
  readonly expected: boolean;
  readonly observed: Observation;
  readonly result: CheckResult;
  readonly evidence: readonly string[];
  readonly checks: readonly string[];
  readonly note?: string;
}

export function cellResult(expected: boolean, observed: Observation): CheckResult {
  if (observed === 'not-applicable') return 'not-applicable';
  if (observed === 'unknown') return 'cannot-prove-from-outside';
  return observed === expected ? 'pass' : 'fail';
}
