// The protocol's AsyncAPI document (docs/asyncapi.yaml) against the browser's
// client: the document is valid AsyncAPI 3.0.0, every client frame type is
// built by the client and matches its schema, and the check rejects what the
// document does not describe. (Every frame the client sends in any test is
// checked too, by the fake socket: fakes.mjs.)

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

import { document, problem, validators } from "./asyncapi.mjs";
import { joinRef } from "../../rooms/static/rooms/client.js";
import { connectAndJoin, message, setup } from "./fakes.mjs";

const require = createRequire(import.meta.url);

describe("docs/asyncapi.yaml", () => {
  test("is a valid AsyncAPI 3.0.0 document", () => {
    const Ajv = require("ajv");
    const { schemas } = require("@asyncapi/specs");
    // AsyncAPI's schema brings its own copy of draft 7's meta-schema.
    const ajv = new Ajv({ strict: false, meta: false, validateSchema: false, validateFormats: false });
    const validate = ajv.compile(schemas["3.0.0"]);
    assert.equal(document.asyncapi, "3.0.0");
    assert.ok(validate(document), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
  });

  test("every example in it matches its own message", () => {
    let examples = 0;
    for (const [name, message] of Object.entries(document.components.messages)) {
      const side = name.startsWith("server.") ? "server" : "client";
      for (const example of message.examples ?? []) {
        assert.equal(problem(side, example.payload), null, `${name}: ${JSON.stringify(example.payload)}`);
        examples += 1;
      }
    }
    assert.ok(examples >= 10);
  });

  test("a frame it does not describe is rejected, and the reason says why", () => {
    const send = { type: "send", room: "lobby", body: "hi", client_id: "c-1" };
    assert.equal(problem("client", send), null);
    assert.match(problem("client", { ...send, colour: "red" }), /additional properties.*colour/);
    assert.match(problem("client", { ...send, client_id: 7 }), /client_id.*must be string/);
    assert.match(problem("client", { ...send, body: "   " }), /body/);
    assert.match(problem("client", { type: "edit", room: "lobby", body: "x" }), /seq/);
    assert.match(problem("client", { type: "ack", room: "lobby" }), /not a client frame/);
    assert.match(problem("server", { type: "hello", protocol: 2, user: "a", extra: 1 }), /additional/);
    assert.match(problem("server", { type: "message", room: "lobby", message: { ...message(1), seq: "1" } }), /seq/);
  });
});

describe("the client's frames", () => {
  test("the client builds every client frame type, each as the document describes it", () => {
    const ctx = setup({ pingInterval: 25_000 });
    connectAndJoin(ctx);
    const { client } = ctx;
    const s = ctx.socket();
    s.deliver({ type: "backfill", room: "lobby", messages: [message(1), message(2, { author: "alice" })] });
    client.join("hall", { since: 0, presence: false });
    client.send("lobby", "hello");
    client.send("lobby", "a reply", { replyTo: 1 });
    client.edit("lobby", 2, "better");
    client.react("lobby", 1, "👍");
    client.react("lobby", 1, "👍", false);
    client.delete("lobby", 2);
    client.typing("lobby");
    client.read("lobby", 2);
    client.history("lobby", 1, 20).catch(() => {});
    client.history("lobby").catch(() => {});
    client.leave("hall");
    ctx.timers.advance(25_000); // the connection's ping

    const sent = new Set(s.sent.map((frame) => frame.type));
    assert.deepEqual([...sent].sort(), Object.keys(validators.client).sort());
    for (const frame of s.sent) assert.equal(problem("client", frame), null, JSON.stringify(frame));
  });

  test("a room whose slug is as long as a slug may be is joined with a ref of at most 64 characters", () => {
    const ctx = setup({ random: () => 1 });
    connectAndJoin(ctx);
    const [long, twin] = ["a", "b"].map((last) => `${"x".repeat(63)}${last}`);
    ctx.client.join(long, { since: 0 });
    ctx.client.join(twin, { since: 0 });
    const [frame, other] = ctx.socket().frames("join").slice(-2);
    assert.equal(problem("client", frame), null);
    assert.ok(frame.ref.length <= 64 && frame.ref !== other.ref);
    assert.equal(joinRef("lobby"), "join:lobby");
    // An answer to that ref is taken for that room: a refusal for now is retried.
    ctx.socket().deliver({ type: "error", code: "rate_limited", message: "later", retry_after: 1, ref: frame.ref });
    ctx.timers.advance(1000);
    assert.deepEqual(ctx.socket().frames("join").at(-1), frame);
  });
});
