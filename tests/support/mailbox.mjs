// A local HTTP server standing in for Resend's API: it records every message it is sent.
import { createServer } from "node:http";

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
    /** Messages sent to `address`, waiting up to `ms` for at least `count` of them. */
    async to(address, { count = 1, ms = 5000 } = {}) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = messages.filter((m) => m.to.includes(address));
        if (found.length >= count || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    /** The six-digit code of the newest reset mail to `address`. */
    async codeFor(address, { count = 1 } = {}) {
      const found = await this.to(address, { count });
      const resets = found.filter((m) => /reset code/.test(m.subject));
      const newest = resets[resets.length - 1];
      if (!newest) throw new Error(`no reset mail to ${address}`);
      return newest.text.match(/code is (\d{6})/)[1];
    },
    close() {
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
