// Builds dist/edge-auth-client.js: one minified ESM file (esbuild strips the types), and prints
// its size minified and gzipped.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Builds the bundle to `outfile` (default dist/edge-auth-client.js); resolves to its sizes. */
export async function buildClient({ quiet = false, outfile = `${here}dist/edge-auth-client.js` } = {}) {
  await build({
    entryPoints: [`${here}src/index.ts`],
    outfile,
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    sourcemap: true,
    legalComments: "none",
    logLevel: quiet ? "silent" : "warning",
  });
  const code = readFileSync(outfile);
  return { outfile, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { bytes, gzipBytes } = await buildClient();
  console.log(`client: dist/edge-auth-client.js ${(bytes / 1024).toFixed(1)} KiB minified, ${(gzipBytes / 1024).toFixed(1)} KiB gzip`);
}
