// A local port for a server whose address must be known before it starts (an OpenID provider's
// redirect URI names the worker's callback; the dev server's port is passed on its command line).
import { createServer } from "node:net";

/** A free port on 127.0.0.1. */
export async function freePort() {
  // Below the kernel's ephemeral range (32768-60999 here): a port the OS hands out for any
  // listen(0) or outgoing connection meanwhile would be taken by the time the worker binds it
  // (CI saw ERR_ADDRESS_IN_USE). A random one of these, checked free, is nobody's by accident.
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
