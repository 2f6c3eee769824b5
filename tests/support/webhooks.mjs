// Webhooks in the black-box tests: the queues of wrangler.toml as Miniflare options, and a local
// receiver that verifies every delivery with `standardwebhooks` (the format authors' package).
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The `[[queues.*]]` tables of wrangler.toml, each as `{key: value}` (strings and numbers). */
function queueTables(kind) {
  const toml = readFileSync(`${ROOT}wrangler.toml`, "utf8");
  return toml
    .split(`[[queues.${kind}]]`)
    .slice(1)
    .map((block) => block.split(/^\[/m)[0])
    .map((block) =>
      Object.fromEntries(
        [...block.matchAll(/^([a-z_]+)\s*=\s*(?:"([^"]*)"|(\d+))/gm)].map((m) => [m[1], m[2] ?? Number(m[3])]),
      ),
    );
}

const CONSUMER_KEYS = {
  max_batch_size: "maxBatchSize",
  max_batch_timeout: "maxBatchTimeout",
  max_retries: "maxRetries",
  dead_letter_queue: "deadLetterQueue",
  retry_delay: "retryDelay",
};

/**
 * Miniflare's `queueProducers` and `queueConsumers` for the queues wrangler.toml declares, as
 * `wrangler dev` would run them; `consumers` overrides a queue's settings (Miniflare's names).
 */
export function queueOptions(consumers = {}) {
  const queueProducers = Object.fromEntries(
    queueTables("producers").map((p) => [p.binding, { queueName: p.queue }]),
  );
  const queueConsumers = Object.fromEntries(
    queueTables("consumers").map(({ queue, ...settings }) => [
      queue,
      {
        ...Object.fromEntries(Object.entries(settings).map(([k, v]) => [CONSUMER_KEYS[k] ?? k, v])),
        ...consumers[queue],
      },
    ]),
  );
  return { queueProducers, queueConsumers };
}

/** A new `whsec_` secret of 24 random bytes, as the spec's reference libraries make them. */
export function newSecret() {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

/**
 * A receiver on 127.0.0.1 with one path per behaviour: `answers(path, attempt)` gives the status
 * to answer the `attempt`-th delivery (1, 2, …) of one `webhook-id` to that path. Each delivery
 * is recorded with its arrival time and whether `standardwebhooks` verified it with `secrets[path]`.
 */
export async function startReceiver({ secrets, answers }) {
  const deliveries = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(
        ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"].map((h) => [h, req.headers[h]]),
      );
      let payload;
      let refusal;
      try {
        payload = new Webhook(secrets[req.url]).verify(body, headers);
      } catch (e) {
        refusal = e;
      }
      const attempt = deliveries.filter((d) => d.path === req.url && d.headers["webhook-id"] === headers["webhook-id"]).length + 1;
      deliveries.push({ path: req.url, method: req.method, headers, body, payload, refusal, attempt, at: Date.now() });
      res.writeHead(answers(req.url, attempt)).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    deliveries,
    /** The deliveries to `path` whose verified payload matches `match`, waiting up to `ms` for `count` of them. */
    async received(path, match, { count = 1, ms = 30_000 } = {}) { // ends as soon as `count` are in
      const deadline = Date.now() + ms;
      for (;;) {
        const found = deliveries.filter((d) => d.path === path && d.payload && match(d.payload));
        if (found.length >= count || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close() {
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
