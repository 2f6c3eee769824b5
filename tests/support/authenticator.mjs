// A software authenticator for the passkey tests: an ES256 key pair, the CBOR of WebAuthn's
// attestation object and COSE key, authenticator data with its flags and counter, and
// clientDataJSON, built by hand from the W3C WebAuthn Level 3 layout (§6.1, §6.5), so every
// field can be bent. (The browser tests use Chromium's own virtual authenticator.)
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
const sha256 = (data) => createHash("sha256").update(data).digest();

/** The head of a CBOR item (RFC 8949 §3): its major type and its argument `n` (below 2^32). */
export function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** Minimal CBOR (RFC 8949) for maps with int/text keys, byte and text strings, ints. */
function cbor(value) {
  const head = cborHead;
  if (Number.isInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Map) {
    const parts = [head(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return Buffer.concat(parts);
  }
  throw new Error(`cbor: ${typeof value}`);
}

export class SoftAuthenticator {
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: "jwk" });
    // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    this.cose = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, "base64url")], [-3, Buffer.from(jwk.y, "base64url")]]));
    this.credentialId = randomBytes(16);
    this.counter = 0;
    this.userHandle = null;
  }

  /** Authenticator data: rpIdHash, flags (UP, UV unless `uv` is false; AT when `attested`), counter. */
  authData(rpId, { uv = true, attested = false, counter = this.counter } = {}) {
    const flags = 0x01 | (uv ? 0x04 : 0) | (attested ? 0x40 : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts = [sha256(rpId), Buffer.from([flags]), count];
    if (attested) {
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), idLength, this.credentialId, this.cose);
    }
    return Buffer.concat(parts);
  }

  clientData(type, challenge, origin) {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** The answer of `navigator.credentials.create()` to `options`, as `toJSON()` gives it. */
  create(options, { origin, rpId = options.rp.id, uv = true } = {}) {
    this.userHandle = options.user.id;
    const clientDataJSON = this.clientData("webauthn.create", options.challenge, origin);
    const authData = this.authData(rpId, { uv, attested: true });
    const attestationObject = cbor(new Map([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]));
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: "public-key",
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject) },
    };
  }

  /** The answer of `navigator.credentials.get()` to `options`; the counter moves by one. */
  get(options, { origin, rpId = options.rpId, uv = true, counter } = {}) {
    this.counter = counter ?? this.counter + 1;
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, origin);
    const authenticatorData = this.authData(rpId, { uv, counter: this.counter });
    const signature = sign("sha256", Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
        userHandle: this.userHandle,
      },
    };
  }
}
