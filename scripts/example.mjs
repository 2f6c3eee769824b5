// `npm run example`: builds the web client, serves examples/web on http://localhost:5173 and the
// worker on http://localhost:8787 (`npm run dev`, whose .dev.vars allow CORS from any origin and
// print mailed codes in its output). Ctrl-C stops both.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildClient } from "../client/build.mjs";
import { startStatic } from "./static-server.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const { gzipBytes } = await buildClient();
const site = await startStatic({
  host: "localhost",
  port: Number(process.env.EXAMPLE_PORT ?? 5173),
  mounts: { "/": `${root}examples/web`, "/client/": `${root}client/dist` },
});
console.log(`[example] the web client (${(gzipBytes / 1024).toFixed(1)} KiB gzip) at ${site.url}, starting the worker on :8787`);
console.log("[example] mailed codes appear below in the worker's log: \"[mail] subject: Your verification code: 123456\"");
// The page is where provider sign-ins and email sign-in links come back to: the worker must allow
// it exactly (unless the command line names the setting itself).
const extra = process.argv.slice(2);
const allowReturn = extra.some((arg) => arg.startsWith("OAUTH_REDIRECT_URLS:")) ? [] : ["--var", `OAUTH_REDIRECT_URLS:${site.url}/`];
const worker = spawn("bash", [`${root}scripts/dev.sh`, ...allowReturn, ...extra], { stdio: "inherit", cwd: root });
const stop = () => {
  worker.kill("SIGINT");
  site.close();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
worker.on("exit", (code) => {
  site.close();
  process.exit(code ?? 0);
});
