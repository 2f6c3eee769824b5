// The example app: every step of an account's life through the web client, without a framework.
import {
  createClient, passkeysSupported, ApiError, EmailLinkError, EmailNotVerifiedError, PasskeyRefusedError, SocialSignInError,
  ValidationError,
} from "/client/edge-auth-client.js";
import { organizationScreens } from "./organizations.js";

// Settings. PROVIDERS: the "Sign in with …" buttons, each a name of the worker's OIDC_PROVIDERS
// (or "github"), e.g. ["google", "github"]. `?api=` and `?providers=a,b` override API and
// PROVIDERS, and are remembered for this tab (and the browser's new tabs): the way back from a
// provider, or a mail's link, does not carry them.
const API = "http://localhost:8787";
const PROVIDERS = [];
// Where a provider sends the browser back (through the worker): this page, at the site's root.
// The worker's OAUTH_REDIRECT_URLS must list it exactly, e.g. "http://localhost:5173/".
const RETURN_TO = new URL("/", location.href).href;

const query = new URLSearchParams(location.search);
// (A sign-in mail's link opens a new tab: the browser's last settings hold there.)
const saved = JSON.parse(sessionStorage.getItem("example.settings") ?? localStorage.getItem("example.settings") ?? "{}");
const settings = {
  api: query.get("api") ?? saved.api ?? API,
  providers: query.has("providers") ? query.get("providers").split(",").filter(Boolean) : saved.providers ?? PROVIDERS,
};
sessionStorage.setItem("example.settings", JSON.stringify(settings));
localStorage.setItem("example.settings", JSON.stringify(settings));
const client = createClient({ baseUrl: settings.api });
// For the browser's console (and the browser tests), from the start: a page that renders itself
// signed in from an event must not find it missing.
window.edgeAuth = client;
const $ = (id) => document.getElementById(id);
const value = (id) => $(id).value.trim();
let mfaToken = null;
let verificationToken;

function notice(text, error = false) {
  $("notice").hidden = false;
  $("notice").textContent = text;
  $("notice").className = error ? "error" : "";
}

const SOCIAL_ERRORS = {
  access_denied: "The sign-in was cancelled at the provider",
  provider_error: "The provider could not sign you in; try again",
  account_exists: "An account already has this address: sign in with its password, then link the provider",
  email_missing: "The provider gave no email address",
  email_not_verified: "The provider has not verified your email address",
  identity_taken: "That provider account is linked to another account",
  already_linked: "This account is linked to that provider already",
  no_verifier: "This sign-in was not started in this tab; start again",
};

function describe(error) {
  if (error instanceof EmailLinkError) return "This link works only in the browser where you asked for it: enter the mailed code instead";
  if (error instanceof SocialSignInError) return `${SOCIAL_ERRORS[error.code] ?? "Social sign-in failed"} (${error.code})`;
  if (error instanceof ValidationError) {
    return `${error.message}: ${Object.entries(error.fields).map(([f, why]) => `${f} ${why}`).join(", ")}`;
  }
  if (error instanceof PasskeyRefusedError) return `${error.message} (${error.code}: ${error.reason})`;
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  // The browser's own refusals of a passkey ceremony.
  if (error?.name === "NotAllowedError") return "The passkey request was cancelled or timed out";
  if (error?.name === "SecurityError") return `This page cannot use passkeys for this site (${error.message})`;
  return error.message;
}

/** What a sign-in's result asks of the user: nothing more, or the second step. */
function afterSignIn(result, signedIn = "Signed in") {
  if (result.status !== "mfa_required") return signedIn;
  mfaToken = result.mfaToken;
  $("mfa-form").hidden = false;
  $("mfa-code").focus();
  return "Enter the code from your authenticator app";
}

/** Runs a form's action; its answer or error goes to the notice. */
function on(id, event, action) {
  $(id).addEventListener(event, async (e) => {
    e.preventDefault();
    try {
      const said = await action();
      if (said) notice(said);
    } catch (error) {
      notice(describe(error), true);
    }
  });
}

async function render() {
  $("signed-in").hidden = !client.signedIn;
  $("signed-out").hidden = client.signedIn;
  // Nothing typed on one side (a password above all) stays behind on the other.
  for (const form of document.querySelectorAll(client.signedIn ? "#signed-out form" : "#signed-in form")) form.reset();
  organizations.renderInvitation();
  if (!client.signedIn) {
    $("status").textContent = "Signed out";
    return;
  }
  const me = await client.me();
  $("status").textContent = `Signed in as ${me.email}`;
  document.body.classList.toggle("mfa-on", me.mfa_enabled);
  $("profile").replaceChildren(
    ...[["Email", me.email], ["Name", me.username ?? "–"], ["Verified", me.email_verified ? "yes" : "no"],
      ["Two-step sign-in", me.mfa_enabled ? "on" : "off"], ["Since", new Date(me.created_at).toLocaleString()]]
      .flatMap(([k, v]) => [Object.assign(document.createElement("dt"), { textContent: k }),
        Object.assign(document.createElement("dd"), { textContent: v })]),
  );
  $("profile-name").value = me.username ?? "";
  $("enroll-form").hidden = me.mfa_enabled;
  $("disable-form").hidden = !me.mfa_enabled;
  await Promise.all([renderSessions(), renderIdentities(), renderPasskeys(), organizations.render(me)]);
}

const button = (text, className, action) => {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: text, className });
  b.addEventListener("click", async () => {
    try {
      const said = await action();
      if (said) notice(said);
    } catch (error) {
      notice(describe(error), true);
    }
  });
  return b;
};

/** The providers linked to the account (each with Unlink), and a Link button per other provider. */
async function renderIdentities() {
  const identities = await client.identities();
  $("identities-section").hidden = identities.length === 0 && settings.providers.length === 0;
  $("identities").replaceChildren(...identities.map((identity) => {
    const item = Object.assign(document.createElement("li"), {
      textContent: `${identity.provider}${identity.email ? ` (${identity.email})` : ""}`,
    });
    item.dataset.provider = identity.provider;
    item.append(button("Unlink", "unlink", async () => {
      const said = await client.unlink(identity.provider, confirmation());
      await renderIdentities();
      return said.message;
    }));
    return item;
  }));
  const linked = new Set(identities.map((i) => i.provider));
  $("link-buttons").replaceChildren(...settings.providers.filter((p) => !linked.has(p)).map((provider) =>
    button(`Link ${provider}`, "link", async () =>
      location.assign(await client.linkProvider(provider, RETURN_TO, confirmation())))));
}

/** The account's passkeys, each with a name to edit (Rename) and Delete. Nothing when the worker has them off. */
async function renderPasskeys() {
  if (!passkeysSupported()) return;
  let passkeys;
  try {
    passkeys = await client.passkeys();
  } catch (error) {
    // 404: the worker has no RP_ID, so no passkeys.
    if (error instanceof ApiError && error.status === 404) return void ($("passkeys-section").hidden = true);
    throw error;
  }
  $("passkeys-section").hidden = false;
  $("passkeys").replaceChildren(...passkeys.map((passkey) => {
    const item = document.createElement("li");
    item.dataset.id = passkey.id;
    const name = Object.assign(document.createElement("input"), { value: passkey.name, className: "passkey-name", ariaLabel: "Passkey name" });
    const used = passkey.last_used_at ? `last used ${new Date(passkey.last_used_at).toLocaleString()}` : "never used";
    item.append(
      name,
      Object.assign(document.createElement("span"), {
        className: "hint",
        textContent: ` added ${new Date(passkey.created_at).toLocaleString()}, ${used}${passkey.backed_up ? ", synced" : ""} `,
      }),
      button("Rename", "rename", async () => {
        const said = await client.renamePasskey(passkey.id, name.value.trim());
        await renderPasskeys();
        return `${said.message}: ${said.name}`;
      }),
      button("Delete", "delete", async () => {
        const said = await client.deletePasskey(passkey.id, confirmation());
        await renderPasskeys();
        return said.message;
      }),
    );
    return item;
  }));
}

// Passkeys need WebAuthn (a secure context: https, or http://localhost).
document.body.classList.toggle("no-passkeys", !passkeysSupported());
on("passkey-sign-in", "click", async () => {
  return afterSignIn(await client.signInWithPasskey(), "Signed in with a passkey");
});
on("passkey-form", "submit", async () => {
  const added = await client.addPasskey({ password: $("passkey-password").value, ...code("passkey-mfa"),
    ...(value("passkey-name") && { name: value("passkey-name") }) });
  $("passkey-form").reset();
  await renderPasskeys();
  return `${added.message}: ${added.name}`;
});

// Organizations: their screens, and an invitation's link opened on this page.
const organizations = organizationScreens({ client, $, value, on, button });

// The signed-out side: a "Sign in with …" button per provider.
$("social").hidden = settings.providers.length === 0;
$("social-buttons").replaceChildren(...settings.providers.map((provider) =>
  button(`Sign in with ${provider}`, "social", async () => location.assign(await client.socialSignInUrl(provider, RETURN_TO)))));

async function renderSessions() {
  const rows = (await client.listSessions()).map((s) => {
    const row = document.createElement("tr");
    for (const text of [new Date(s.created_at).toLocaleString(), s.last_used_at ? new Date(s.last_used_at).toLocaleString() : "–",
      `${s.user_agent ?? "?"}${s.current ? " (this one)" : ""}`]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    const cell = document.createElement("td");
    if (!s.current) {
      const end = Object.assign(document.createElement("button"), { textContent: "End", className: "end-session" });
      end.addEventListener("click", async () => {
        try {
          await client.endSession(s.id);
          notice("Session ended");
          await renderSessions();
        } catch (error) {
          notice(describe(error), true);
        }
      });
      cell.append(end);
    }
    row.append(cell);
    return row;
  });
  $("sessions").replaceChildren(...rows);
}

const code = (id) => (value(id) ? { mfa_code: value(id) } : {});
/** Who you are, asked again before a way in is added or removed (the "Sign-in providers" fields). */
const confirmation = () => ({ password: $("confirm-password").value, ...code("confirm-mfa") });

on("register-form", "submit", async () => {
  const email = value("register-email");
  const said = await client.register({ email, password: $("register-password").value, username: value("register-name") || null });
  $("verify-email").value = email;
  $("login-email").value = email;
  return `${said.message}. Check your mail for the code.`;
});
on("verify-form", "submit", async () =>
  (await client.verifyEmail({ email: value("verify-email"), code: value("verify-code"),
    ...(verificationToken && { verification_token: verificationToken }) })).message);
on("resend", "click", async () =>
  (await client.resendVerification({ email: value("verify-email"),
    ...(verificationToken && { verification_token: verificationToken }) })).message);
on("login-form", "submit", async () => {
  try {
    return afterSignIn(await client.login({ email: value("login-email"), password: $("login-password").value }));
  } catch (error) {
    if (!(error instanceof EmailNotVerifiedError)) throw error;
    verificationToken = error.verificationToken;
    $("verify-email").value = value("login-email");
    return `${error.message}: enter the mailed code above`;
  }
});
// Email sign-in: the code from any device; the link (to this page) is completed on load below.
on("email-start-form", "submit", async () => {
  const link = $("email-sign-in-link").checked ? { redirectTo: RETURN_TO } : {};
  const said = await client.startEmailSignIn(value("email-sign-in-email"), link);
  $("email-code-form").hidden = false;
  $("email-sign-in-code").focus();
  return `${said.message}: enter the code${$("email-sign-in-link").checked ? ", or open the link in this browser" : ""}`;
});
on("email-code-form", "submit", async () => {
  const result = await client.completeEmailSignIn({ email: value("email-sign-in-email"), code: value("email-sign-in-code") });
  $("email-code-form").hidden = true;
  return afterSignIn(result);
});
on("mfa-form", "submit", async () => {
  const result = await client.loginMfa({ mfa_token: mfaToken, code: value("mfa-code") });
  $("mfa-form").hidden = true;
  $("mfa-code").value = "";
  return result.recoveryCodesLeft !== undefined ? `Signed in; ${result.recoveryCodesLeft} recovery codes left` : "Signed in";
});
on("profile-form", "submit", async () => {
  const said = await client.updateProfile({ name: value("profile-name") });
  await render();
  return said.message;
});
on("password-form", "submit", async () => {
  const said = await client.changePassword({ current_password: $("password-current").value,
    new_password: $("password-new").value, ...code("password-mfa") });
  $("password-form").reset();
  await renderSessions();
  return `${said.message}; your other sessions ended`;
});
on("enroll-form", "submit", async () => {
  const enrolment = await client.enrollTotp({ password: $("enroll-password").value });
  $("enrol-qr").src = `data:image/svg+xml,${encodeURIComponent(enrolment.qr_svg)}`;
  $("enrol-secret").textContent = enrolment.secret;
  $("enrolment").hidden = false;
  return "Scan the code with your authenticator app, then enter its first code";
});
on("confirm-form", "submit", async () => {
  const confirmed = await client.confirmTotp({ code: value("confirm-code") });
  $("enrolment").hidden = true;
  $("recovery").hidden = false;
  $("recovery-codes").replaceChildren(...confirmed.recovery_codes.map((c) => Object.assign(document.createElement("li"), { textContent: c })));
  $("enroll-form").reset();
  await render();
  return confirmed.message;
});
on("disable-form", "submit", async () => {
  const said = await client.disableTotp({ password: $("disable-password").value, code: value("disable-code") });
  $("disable-form").reset();
  $("recovery").hidden = true;
  await render();
  return said.message;
});
on("sessions-reload", "click", renderSessions);
on("delete-form", "submit", async () => (await client.deleteAccount({ password: $("delete-password").value, ...code("delete-mfa") })).message);
on("logout", "click", async () => {
  await client.logout();
  return "Signed out";
});

// Every change of the session, in this tab or another, redraws the page.
client.onChange((event) => {
  if (event.type === "refreshed" || event.type === "restored") return;
  if (event.reason === "other_tab") notice("Signed out in another tab");
  if (event.reason === "expired") notice("Your session ended; sign in again", true);
  render().catch((error) => notice(describe(error), true));
});
await client.ready;
// Back from a provider: this page's address carries a one-time code (or a link_code, or an error).
try {
  const result = await client.completeSocialSignIn();
  if (result?.status === "linked") notice(`Linked ${result.provider}`);
  else if (result) notice(afterSignIn(result));
  // Or from a sign-in mail's link: its token is in this page's fragment.
  const byLink = await client.completeEmailLink();
  if (byLink) notice(afterSignIn(byLink, "Signed in with the mailed link"));
} catch (error) {
  notice(describe(error), true);
}
await render().catch((error) => notice(describe(error), true));
