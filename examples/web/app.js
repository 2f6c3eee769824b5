// The example app: every step of an account's life through the web client, without a framework.
import { createClient, ApiError, EmailNotVerifiedError, ValidationError } from "/client/edge-auth-client.js";

const api = new URLSearchParams(location.search).get("api") ?? "http://localhost:8787";
const client = createClient({ baseUrl: api });
const $ = (id) => document.getElementById(id);
const value = (id) => $(id).value.trim();
let mfaToken = null;
let verificationToken;

function notice(text, error = false) {
  $("notice").hidden = false;
  $("notice").textContent = text;
  $("notice").className = error ? "error" : "";
}

function describe(error) {
  if (error instanceof ValidationError) {
    return `${error.message}: ${Object.entries(error.fields).map(([f, why]) => `${f} ${why}`).join(", ")}`;
  }
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error.message;
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
  await renderSessions();
}

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
    const result = await client.login({ email: value("login-email"), password: $("login-password").value });
    if (result.status === "mfa_required") {
      mfaToken = result.mfaToken;
      $("mfa-form").hidden = false;
      $("mfa-code").focus();
      return "Enter the code from your authenticator app";
    }
    return "Signed in";
  } catch (error) {
    if (!(error instanceof EmailNotVerifiedError)) throw error;
    verificationToken = error.verificationToken;
    $("verify-email").value = value("login-email");
    return `${error.message}: enter the mailed code above`;
  }
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
await render().catch((error) => notice(describe(error), true));
window.edgeAuth = client;
