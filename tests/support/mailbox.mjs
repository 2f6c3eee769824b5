// A local HTTP server standing in for Resend's API: it records every message it is sent.
import { createServer } from "node:http";

/**
 * How long a wait for mail may take before it gives up: mail goes out after the answer, later on a
 * loaded machine. A wait ends as soon as the mail is in, so this only bounds a failing one (a
 * check that no mail came passes `ms: 0`).
 */
const WAIT_MS = 30_000;

export async function startMailbox() {
  const messages = [];
  let failWith = null;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/emails") {
        res.writeHead(404).end();
        return;
      }
      if (failWith) {
        res.writeHead(failWith, { "Content-Type": "application/json" }).end('{"message":"down"}');
        return;
      }
      messages.push({ authorization: req.headers.authorization, ...JSON.parse(raw) });
      res.writeHead(200, { "Content-Type": "application/json" }).end(`{"id":"msg-${messages.length}"}`);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    messages,
    /** Makes the provider answer every send with this HTTP status (null: work again). */
    failWith(status) {
      failWith = status;
    },
    /** Messages sent to `address` (whose subject matches `subject`), waiting up to `ms` for at least `count` of them. */
    async to(address, { count = 1, ms = WAIT_MS, subject = /./ } = {}) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.filter((m) => m.to.includes(address) && subject.test(m.subject));
        if (found.length >= count || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    /**
     * The six-digit code of the newest mail of `kind` to `address`: `reset` (a password reset),
     * `verification` or `email change`; waits for `count` mails of that kind.
     */
    async codeFor(address, { count = 1, kind = "reset", ms = WAIT_MS } = {}) {
      const deadline = Date.now() + ms;
      const subject = new RegExp(`${kind} code`);
      let codes = [];
      for (;;) {
        codes = messages.filter((m) => m.to.includes(address) && subject.test(m.subject));
        if (codes.length >= count || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const newest = codes[codes.length - 1];
      if (!newest) throw new Error(`no ${kind} mail to ${address}`);
      return newest.text.match(/code is (\d{6})/)[1];
    },
    close() {
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
