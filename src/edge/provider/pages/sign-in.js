/* sign-in.js: the hosted sign-in page of the OAuth 2.1 / OpenID provider (served as
 * /oauth2/assets/sign-in.js). It drives the service's own JSON API on this origin:
 *   POST /login, /login/mfa, /login/mfa/passkey/options, /login/mfa/passkey,
 *   /passkeys/login/options, /passkeys/login, /email-sign-in, /email-sign-in/code,
 *   GET /oauth/{provider}/start (PKCE S256) then POST /oauth/token on the way back,
 *   and at the end POST /oauth2/session with the access token, then on to data-return-to.
 * Tokens live in local variables only: never in storage, the URL, the page or the log. */
(function () {
  "use strict";
  const root = document.getElementById("sign-in");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const config = root.dataset;
  const passkeysOn = config.passkeys === "true" && typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
  const emailCodeOn = config.emailCode === "true";
  const providers = (config.providers || "").split(",").map((name) => name.trim()).filter(Boolean);
  const PKCE_KEY = "oauth2-pages.social-verifier"; // the PKCE verifier only, never a token
  let mfaToken = null;
  let codeEmail = "";
  let busy = false;

  /** An error answer of the API: its status, `error` code, passkey `reason` and Retry-After. */
  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      super((body && body.error) || "HTTP " + status);
      Object.assign(this, { status, code: body && body.error, reason: body && body.reason, retryAfter: Number(retryAfter) || 0 });
    }
  }
  /** An error whose message is already the one to show. */
  const shown = (text) => Object.assign(new Error(text), { shown: true });

  async function post(path, body, token) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const response = await fetch(path, { method: "POST", credentials: "same-origin", headers, body: payload });
    let answer = null;
    try { answer = response.status === 204 ? null : await response.json(); } catch { answer = null; }
    if (!response.ok) throw new ApiError(response.status, answer, response.headers.get("Retry-After"));
    return answer;
  }

  const SOCIAL_ERRORS = {
    access_denied: "Sign-in was cancelled at the provider.",
    provider_error: "The provider could not sign you in. Try again.",
    account_exists: "An account uses this address, but the address is not verified yet. Sign in another way first.",
    email_missing: "The provider did not share your email address.",
    email_not_verified: "The provider has not verified your email address.",
  };
  const API_ERRORS = {
    invalid_mfa_code: "That code is not right, or it was already used.",
    invalid_code: "That code is not right or has expired.",
    account_disabled: "This account is disabled.",
    no_password: "This account has no password. Sign in another way.",
    not_found: "This way of signing in is not available.",
    redirect_not_allowed: "Sign-in with a provider is not set up for this page.",
    provider_error: "The provider could not be reached. Try again.",
  };

  function messageOf(error, unauthorized) {
    if (error && error.shown) return error.message;
    if (error instanceof ApiError) {
      if (error.code === "unauthorized") return unauthorized || "Your sign-in expired. Start again.";
      if (error.code === "too_many_attempts") {
        const minutes = Math.ceil(error.retryAfter / 60);
        return "Too many attempts. Try again " + (minutes > 0 ? "in " + minutes + (minutes === 1 ? " minute." : " minutes.") : "later.");
      }
      if (error.code === "email_not_verified") {
        return emailCodeOn ? "Your email address is not verified yet. Sign in with an emailed code to verify it."
          : "Your email address is not verified yet. Verify it, then sign in again.";
      }
      if (error.code === "validation_failed") return "Check what you typed and try again.";
      if (error.code === "passkey_refused") {
        return error.reason === "no_passkey" ? "This account has no passkey. Enter a code instead." : "This passkey could not be used here.";
      }
      return API_ERRORS[error.code] || "Something went wrong. Try again.";
    }
    const name = error && error.name; // the browser's own refusals of a passkey ceremony
    if (name === "NotAllowedError" || name === "AbortError") return "The passkey request was cancelled or timed out.";
    if (name === "SecurityError" || name === "NotSupportedError") return "Passkeys cannot be used on this page.";
    if (error instanceof TypeError) return "The service could not be reached. Check your connection and try again.";
    return "Something went wrong. Try again.";
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
    if (isError) status.focus();
  }

  function setBusy(on) {
    busy = on;
    for (const button of root.querySelectorAll("button")) button.disabled = on;
  }

  /** Runs one request flow: the buttons off meanwhile, its error shown (`unauthorized`: what a 401 means here). */
  async function run(task, progress, unauthorized) {
    if (busy) return;
    setBusy(true);
    say(progress || "");
    try {
      if (await task() === "leaving") return; // stay busy while the browser moves on
    } catch (error) {
      setBusy(false);
      say(messageOf(error, unauthorized), true);
      return;
    }
    setBusy(false);
  }

  /** A sign-in's answer: the second step when asked, else the session handed to the provider. */
  async function signedIn(answer) {
    if (answer && answer.mfa_required === true) return showMfa(answer.mfa_token);
    if (!answer || typeof answer.token !== "string") throw shown("Something went wrong. Try again.");
    const returnTo = config.returnTo || "";
    if (!returnTo.startsWith("/oauth2/")) throw shown("This sign-in cannot continue. Go back to the app and start again.");
    say("Signed in. Continuing…");
    try {
      await post("/oauth2/session", undefined, answer.token);
    } catch (error) {
      throw error instanceof ApiError ? shown("Signed in, but the sign-in could not continue. Reload the page and try again.") : error;
    }
    location.assign(returnTo);
    return "leaving";
  }

  function showAlternatives() {
    $("passkey-button").hidden = !passkeysOn;
    $("email-code-form").hidden = !emailCodeOn;
    $("providers").hidden = providers.length === 0;
    $("alternatives").hidden = !(passkeysOn || emailCodeOn || providers.length > 0);
  }

  function showMfa(token) {
    mfaToken = token;
    $("password").value = "";
    $("password-form").hidden = $("alternatives").hidden = true;
    $("mfa-form").hidden = false;
    say("Enter the code from your authenticator app.");
    $("mfa-code").focus();
  }

  function backToStart() {
    mfaToken = null;
    $("mfa-code").value = "";
    recoveryMode(false);
    $("mfa-form").hidden = true;
    $("password-form").hidden = false;
    showAlternatives();
  }

  // base64url <-> bytes, as the project's web client does (client/src/routes/passkeys.ts).
  // The values are small (a credential, a digest), so one fromCharCode call is safe.
  function toBase64url(data) {
    const bytes = ArrayBuffer.isView(data) ? data : new Uint8Array(data);
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromBase64url(text) {
    const plain = text.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(plain + "===".slice((plain.length + 3) % 4)), (c) => c.charCodeAt(0));
  }

  /** navigator.credentials.get() with the API's JSON options; the assertion as the API takes it. */
  async function passkeyAssertion(json) {
    const parse = PublicKeyCredential.parseRequestOptionsFromJSON;
    const publicKey = typeof parse === "function" ? parse.call(PublicKeyCredential, json) : Object.assign({}, json, {
      challenge: fromBase64url(json.challenge),
      allowCredentials: (json.allowCredentials || []).map((d) => Object.assign({}, d, { id: fromBase64url(d.id) })),
    });
    const credential = await navigator.credentials.get({ publicKey });
    if (!credential) throw shown("No passkey was chosen.");
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    return {
      id: credential.id, rawId: toBase64url(credential.rawId), type: "public-key",
      response: {
        clientDataJSON: toBase64url(r.clientDataJSON), authenticatorData: toBase64url(r.authenticatorData),
        signature: toBase64url(r.signature), userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  // Social sign-in: the start needs a PKCE S256 challenge, so the link is completed on click.
  function providerLabel(name) {
    const known = { github: "GitHub", gitlab: "GitLab", google: "Google", microsoft: "Microsoft" };
    return known[name.toLowerCase()] || name.charAt(0).toUpperCase() + name.slice(1);
  }
  function startPath(provider) {
    return "/oauth/" + encodeURIComponent(provider) + "/start?redirect_to=" + encodeURIComponent(config.socialReturn || "");
  }
  async function startSocial(provider) {
    const verifier = toBase64url(crypto.getRandomValues(new Uint8Array(32)));
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    sessionStorage.setItem(PKCE_KEY, verifier);
    location.assign(startPath(provider) + "&code_challenge=" + toBase64url(digest) + "&code_challenge_method=S256");
    return "leaving";
  }
  for (const provider of providers) {
    const link = document.createElement("a");
    link.href = startPath(provider);
    link.className = "button secondary";
    link.textContent = "Continue with " + providerLabel(provider);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      run(() => startSocial(provider), "Opening " + providerLabel(provider) + "…");
    });
    $("providers").appendChild(document.createElement("li")).appendChild(link);
  }

  /** Back from a provider: the callback put `code` or `error` on this page's URL. */
  function finishSocial() {
    const url = new URL(location.href);
    const [code, error] = [url.searchParams.get("code"), url.searchParams.get("error")];
    if (!code && !error) return;
    let verifier = null;
    try { verifier = sessionStorage.getItem(PKCE_KEY); sessionStorage.removeItem(PKCE_KEY); } catch { verifier = null; }
    for (const name of ["code", "error"]) url.searchParams.delete(name);
    history.replaceState(history.state, "", url.href); // a reload must not replay a spent code
    if (error) return say(SOCIAL_ERRORS[error] || "Sign-in with the provider failed. Try again.", true);
    if (!verifier) return say("This sign-in was started in another tab, or it expired. Try again.", true);
    run(async () => signedIn(await post("/oauth/token", { code, code_verifier: verifier })),
      "Finishing sign-in…", "This sign-in expired. Try again.");
  }

  $("password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { email: $("email").value.trim(), password: $("password").value };
    run(async () => signedIn(await post("/login", body)), "Signing in…", "The email or password is not right.");
  });

  /** A second step: a 401 means the mfa_token is spent or expired, so the sign-in starts over. */
  async function secondStep(task) {
    try {
      return await task();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) throw error;
      backToStart();
      throw shown("This sign-in took too long or had too many tries. Sign in again.");
    }
  }
  $("mfa-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("mfa-code").value.trim();
    run(() => secondStep(async () => signedIn(await post("/login/mfa", { mfa_token: mfaToken, code }))), "Checking the code…");
  });
  /** Recovery codes have letters: a text keyboard for them, the numeric one for app codes. */
  function recoveryMode(on) {
    const input = $("mfa-code");
    input.inputMode = on ? "text" : "numeric";
    input.autocomplete = on ? "off" : "one-time-code";
    $("mfa-code-label").textContent = on ? "Recovery code" : "Code from your authenticator app";
    $("mfa-recovery").hidden = on;
  }
  $("mfa-recovery").addEventListener("click", () => { recoveryMode(true); $("mfa-code").focus(); });
  $("mfa-passkey").addEventListener("click", () => run(() => secondStep(async () => {
    const credential = await passkeyAssertion(await post("/login/mfa/passkey/options", { mfa_token: mfaToken }));
    return signedIn(await post("/login/mfa/passkey", { mfa_token: mfaToken, credential }));
  }), "Waiting for your passkey…"));

  $("passkey-button").addEventListener("click", () => run(async () => {
    const credential = await passkeyAssertion(await post("/passkeys/login/options", {}));
    return signedIn(await post("/passkeys/login", { credential }));
  }, "Waiting for your passkey…", "This passkey is not known here."));

  $("email-code-send").addEventListener("click", () => {
    const email = $("email").value.trim();
    if (!email) {
      say("Enter your email address first.", true);
      return $("email").focus();
    }
    run(async () => {
      await post("/email-sign-in", { email });
      codeEmail = email;
      $("email-code-step").hidden = false;
      say("We emailed " + email + ". Enter the six-digit code from that email.");
      $("email-code").focus();
    }, "Sending a code…");
  });
  $("email-code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { email: codeEmail, code: $("email-code").value.trim() };
    run(async () => signedIn(await post("/email-sign-in/code", body)), "Checking the code…");
  });

  // Back here from the app or a provider through the back/forward cache: usable again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { setBusy(false); say(""); }
  });
  $("mfa-passkey").hidden = !passkeysOn;
  showAlternatives();
  finishSocial();
})();
