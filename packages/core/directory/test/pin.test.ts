import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { isSpkiPin, spkiPin } from '../src/index.ts';

// Made with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 ...`; the pin is
// RFC 7469's recipe: openssl x509 -pubkey | openssl pkey -pubin -outform der
//   | openssl dgst -sha256 -binary | base64
const CERT = `-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIUeC5IVj6kK5JLxaCZz7i6ysC2d5kwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKcGluLXZlY3RvcjAgFw0yNjExMjMxOTA3MDlaGA8yMTI2MTAz
MDE5MDcwOVowFTETMBEGA1UEAwwKcGluLXZlY3RvcjBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABOiUAaSWdGPQEoZI2DovSzW2FcJfo3HnNEDPcn5uLsB00dCCJf6N
DF4l7Rl+EfizWMp806ogaOoJh/bASBnYxB6jUzBRMB0GA1UdDgQWBBS3qDRtWYGC
L+oiUFflqLy+fzvFdTAfBgNVHSMEGDAWgBS3qDRtWYGCL+oiUFflqLy+fzvFdTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIA3j2tJQGEa/iZ/oKVbm
ofZLYpMyb/vI7cCNsvm5Ef1+AiBcTIbCF2TsUXp2qu3PCafMSGTHynI9O0vPzBk+
JSZydQ==
-----END CERTIFICATE-----
`;
const PIN = 'QXOQpf1HiHdHhnPelBoxo+HeWYaxBcHtAUnPVmxiYOs=';

test('spkiPin matches the openssl recipe for PEM, DER and parsed certificates', () => {
  const x509 = new X509Certificate(CERT);
  assert.equal(spkiPin(CERT), PIN);
  assert.equal(spkiPin(Buffer.from(CERT)), PIN);
  assert.equal(spkiPin(x509.raw), PIN);
  assert.equal(spkiPin(x509), PIN);
  assert.equal(isSpkiPin(PIN), true);
});

test('isSpkiPin accepts only canonical base64 of 32 bytes', () => {
  assert.equal(isSpkiPin(PIN.slice(0, -1)), false);
  // 'Os=' to 't=': same 32 bytes, but one of the two unused bits set.
  assert.equal(isSpkiPin(`${PIN.slice(0, -2)}t=`), false);
  assert.equal(isSpkiPin(Buffer.alloc(31).toString('base64')), false);
  assert.equal(isSpkiPin(Buffer.alloc(32).toString('base64url')), false);
  assert.equal(isSpkiPin(Buffer.alloc(33).toString('base64')), false);
});

test('spkiPin refuses what is not a certificate', () => {
  assert.throws(() => spkiPin('not a certificate'));
});
