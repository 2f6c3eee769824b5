// Passkeys (WebAuthn): registering one on the signed-in account, signing in with one (with or
// without an email: usernameless), and the account's list (rename, delete).
//
// The API speaks the JSON form of WebAuthn (base64url for every binary field): its options go to
// navigator.credentials through PublicKeyCredential.parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON where the browser has them (else converted here), and the
// credential goes back as credential.toJSON() (else its hand-made equivalent). The browser's own
// refusals (the person cancelled: NotAllowedError; an RP id this page cannot use: SecurityError)
// are thrown as the DOMException it gave.
import type { Context } from "../context.ts";
import { EdgeAuthError } from "../errors.ts";
import type * as T from "../types.ts";
import { authorizedCall } from "./account.ts";
import { signInResult } from "./auth.ts";
import { ROUTES } from "./table.ts";

/** Bytes (an ArrayBuffer or a view) as unpadded base64url. */
export function toBase64url(data: ArrayBuffer | ArrayBufferView): string {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Base64url (padded or not; plain base64 too) as bytes. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const plain = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(plain + "===".slice((plain.length + 3) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

type Json = Record<string, unknown>;
interface JsonStatics {
  parseCreationOptionsFromJSON?: (options: unknown) => PublicKeyCredentialCreationOptions;
  parseRequestOptionsFromJSON?: (options: unknown) => PublicKeyCredentialRequestOptions;
}
const statics = (): JsonStatics | undefined => globalThis.PublicKeyCredential as unknown as JsonStatics | undefined;
const descriptors = (list: unknown) =>
  ((list as Json[] | undefined) ?? []).map((d) => ({ ...d, id: fromBase64url(d.id as string) }) as unknown as PublicKeyCredentialDescriptor);

/** Whether this browser can run a passkey ceremony at all (a secure context with WebAuthn). */
export function passkeysSupported(): boolean {
  return typeof globalThis.PublicKeyCredential === "function" && typeof globalThis.navigator?.credentials?.create === "function";
}

/** `POST /passkeys/register/options`'s answer as the `publicKey` of navigator.credentials.create(). */
export function creationOptions(json: T.PasskeyCreationOptionsJSON): PublicKeyCredentialCreationOptions {
  const parse = statics()?.parseCreationOptionsFromJSON;
  if (typeof parse === "function") return parse.call(globalThis.PublicKeyCredential, json);
  const user = json.user as Json;
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...user, id: fromBase64url(user.id as string) },
    excludeCredentials: descriptors(json.excludeCredentials),
  } as unknown as PublicKeyCredentialCreationOptions;
}

/** `POST /passkeys/login/options`'s answer as the `publicKey` of navigator.credentials.get(). */
export function requestOptions(json: T.PasskeyRequestOptionsJSON): PublicKeyCredentialRequestOptions {
  const parse = statics()?.parseRequestOptionsFromJSON;
  if (typeof parse === "function") return parse.call(globalThis.PublicKeyCredential, json);
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  } as unknown as PublicKeyCredentialRequestOptions;
}

/** A credential as the API takes it: `credential.toJSON()`, or the same built by hand. */
export function credentialJSON(credential: PublicKeyCredential): T.PasskeyCredentialJSON {
  const own = (credential as { toJSON?: () => unknown }).toJSON;
  if (typeof own === "function") return own.call(credential) as T.PasskeyCredentialJSON;
  const r = credential.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  const response: Record<string, unknown> = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if ("attestationObject" in r && r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
    const data = typeof r.getAuthenticatorData === "function" ? r.getAuthenticatorData() : null;
    if (data) response.authenticatorData = toBase64url(data);
    const key = typeof r.getPublicKey === "function" ? r.getPublicKey() : null;
    if (key) response.publicKey = toBase64url(key);
    if (typeof r.getPublicKeyAlgorithm === "function") response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
  }
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: "public-key",
    response,
    authenticatorAttachment: credential.authenticatorAttachment ?? null,
    clientExtensionResults: { ...credential.getClientExtensionResults?.() },
  };
}

function credentials(): CredentialsContainer {
  if (!passkeysSupported()) throw new EdgeAuthError("passkeys are not supported here (WebAuthn needs a secure context)");
  return navigator.credentials;
}

/** navigator.credentials.create() with the API's options; resolves to the credential's JSON. */
export async function createPasskey(options: T.PasskeyCreationOptionsJSON, { signal }: { signal?: AbortSignal } = {}) {
  const credential = await credentials().create({ publicKey: creationOptions(options), ...(signal && { signal }) });
  if (!credential) throw new EdgeAuthError("no passkey was created");
  return credentialJSON(credential as PublicKeyCredential);
}

/** navigator.credentials.get() with the API's options; resolves to the assertion's JSON. */
export async function getPasskey(
  options: T.PasskeyRequestOptionsJSON,
  { signal, mediation }: { signal?: AbortSignal; mediation?: CredentialMediationRequirement } = {},
) {
  const credential = await credentials().get({
    publicKey: requestOptions(options),
    ...(signal && { signal }),
    ...(mediation && { mediation }),
  });
  if (!credential) throw new EdgeAuthError("no passkey was chosen");
  return credentialJSON(credential as PublicKeyCredential);
}

export interface AddPasskeyOptions extends T.PasskeyRegisterOptionsRequest {
  /** The passkey's name in the account's list (default "Passkey"). */
  name?: string;
  signal?: AbortSignal;
}

export interface PasskeySignInOptions {
  /** Only this account's passkey is accepted; without it, any of this site's (usernameless). */
  email?: string;
  /** `"conditional"`: offered in the autofill of an input with `autocomplete="username webauthn"`. */
  mediation?: CredentialMediationRequirement;
  signal?: AbortSignal;
}

export interface PasskeySignUpOptions {
  /** The name the passkey is listed under (default "Passkey"). */
  name?: string;
  signal?: AbortSignal;
}

export function passkeyRoutes(context: Context) {
  const { http, session } = context;
  const call = authorizedCall(context);
  const registerOptions = (body: T.PasskeyRegisterOptionsRequest) =>
    call<T.PasskeyCreationOptionsJSON, T.PasskeyRegisterOptionsRequest>(ROUTES.passkeyRegisterOptions, body);
  const register = (body: T.PasskeyRegisterRequest) =>
    call<T.PasskeyAdded, T.PasskeyRegisterRequest>(ROUTES.passkeyRegister, body);
  const loginOptions = (body: T.PasskeyLoginOptionsRequest = {}) =>
    http.call<T.PasskeyRequestOptionsJSON, T.PasskeyLoginOptionsRequest>(ROUTES.passkeyLoginOptions, body);
  const login = async (body: T.PasskeyLoginRequest) =>
    signInResult(session, await http.call<T.LoginAnswer | T.MfaChallenge, T.PasskeyLoginRequest>(ROUTES.passkeyLogin, body));
  const signUpOptions = (body: T.PasskeySignUpOptionsRequest) =>
    http.call<T.PasskeySignUpOptionsJSON, T.PasskeySignUpOptionsRequest>(ROUTES.passkeySignUpOptions, body);
  const signUp = async (body: T.PasskeySignUpRequest) =>
    signInResult(session, await http.call<T.LoginAnswer, T.PasskeySignUpRequest>(ROUTES.passkeySignUp, body));
  const factorOptions = (body: T.PasskeyFactorOptionsRequest) =>
    http.call<T.PasskeyRequestOptionsJSON, T.PasskeyFactorOptionsRequest>(ROUTES.loginMfaPasskeyOptions, body);
  const factor = async (body: T.PasskeyFactorRequest) =>
    signInResult(session, await http.call<T.LoginAnswer, T.PasskeyFactorRequest>(ROUTES.loginMfaPasskey, body));

  return {
    /**
     * Adds a passkey to the signed-in account: the options (`password` asked again, and `mfa_code`
     * once a second factor is on; the address must be verified: 403 `email_not_verified`), the
     * browser's ceremony, the answer checked and stored (`{id, name}`). A refused answer throws
     * PasskeyRefusedError with its `reason`.
     */
    async addPasskey({ name, signal, ...body }: AddPasskeyOptions): Promise<T.PasskeyAdded> {
      const credential = await createPasskey(await registerOptions(body), signal ? { signal } : {});
      return register({ credential, ...(name !== undefined && { name }) });
    },

    /**
     * Signs in with a passkey: `signed_in` (a passkey with user verification is both factors), as
     * `login` answers. A passkey the API does not know (deleted) throws ApiError `unauthorized`; a
     * refused ceremony PasskeyRefusedError.
     */
    async signInWithPasskey({ email, mediation, signal }: PasskeySignInOptions = {}): Promise<T.SignInResult> {
      const options = await loginOptions(email !== undefined ? { email } : {});
      const credential = await getPasskey(options, { ...(signal && { signal }), ...(mediation && { mediation }) });
      return login({ credential });
    },

    /**
     * Sign-up without a password, in two steps. `startPasskeySignUp({email, name?})` mails a code
     * to the address and keeps the ceremony's options (the answer is the same for every address:
     * one that has an account gets a notice, and no code works for it); `finishPasskeySignUp`
     * takes the code the person typed, runs the browser's ceremony and creates the account,
     * verified and signed in. A wrong or expired code throws ApiError `invalid_code`.
     */
    async startPasskeySignUp(body: T.PasskeySignUpOptionsRequest) {
      const options = await signUpOptions(body);
      return {
        expiresIn: options.expires_in,
        finishPasskeySignUp: async (code: T.Code, { name, signal }: PasskeySignUpOptions = {}): Promise<T.SignInResult> => {
          const credential = await createPasskey(options, signal ? { signal } : {});
          return signUp({ code, credential, ...(name !== undefined && { name }) });
        },
      };
    },

    /**
     * The second step of a password sign-in with a passkey in place of a code: the `mfaToken` of
     * `login`'s `mfa_required`, the browser's ceremony with the account's passkeys, signed in.
     * An account without a passkey throws PasskeyRefusedError `no_passkey`.
     */
    async completeLoginWithPasskey(mfaToken: string, { signal }: { signal?: AbortSignal } = {}): Promise<T.SignInResult> {
      const options = await factorOptions({ mfa_token: mfaToken });
      const credential = await getPasskey(options, signal ? { signal } : {});
      return factor({ mfa_token: mfaToken, credential });
    },

    /** `POST /passkeys/signup/options`: mails the code, answers the creation options. */
    passkeySignUpOptions: signUpOptions,
    /** `POST /passkeys/signup` with `{code, credential, name?}`: creates the account, signed in. */
    passkeySignUp: signUp,
    /** `POST /login/mfa/passkey/options` with `{mfa_token}`. */
    loginMfaPasskeyOptions: factorOptions,
    /** `POST /login/mfa/passkey` with `{mfa_token, credential}`: signs in as `loginMfa` does. */
    loginMfaPasskey: factor,

    /** The steps apart, for apps that run the ceremony themselves. `POST /passkeys/register/options`. */
    passkeyRegisterOptions: registerOptions,
    /** `POST /passkeys/register` with `{credential: credential.toJSON(), name?}`. */
    passkeyRegister: register,
    /** `POST /passkeys/login/options` (`{email}` optional). */
    passkeyLoginOptions: loginOptions,
    /** `POST /passkeys/login` with `{credential: credential.toJSON()}`: signs in as `login` does. */
    passkeyLogin: login,

    /** `GET /passkeys`: the account's passkeys. */
    passkeys: async () => (await call<{ passkeys: T.Passkey[] }>(ROUTES.listPasskeys)).passkeys,
    /** `PUT /passkeys/{id}`: renames one. */
    renamePasskey: (id: string, name: string) =>
      call<T.PasskeyRenamed, T.RenamePasskeyRequest>(ROUTES.renamePasskey, { name }, { id }),
    /**
     * `DELETE /passkeys/{id}`, with the password (and a current code once a factor is on) asked
     * again: never the account's last way to sign in (409 `last_sign_in_method`).
     */
    deletePasskey: (id: string, confirm: T.Reauthentication) =>
      call<T.Message<"Passkey deleted">, T.Reauthentication>(ROUTES.deletePasskey, confirm, { id }),
  };
}
