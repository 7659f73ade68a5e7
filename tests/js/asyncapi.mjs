// The protocol's AsyncAPI document (docs/asyncapi.yaml) for the JavaScript
// tests: the frames the browser's client builds are checked against its
// client frame schemas, as the Python suite checks every server frame
// against its server frame schemas (tests/harness/frames.py).
//
// ajv (draft 7, AsyncAPI's default schema format) compiles each frame type's
// schema once; the packages come from tests/js/package.json (`npm ci` there,
// which `make test` runs).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Ajv = require("ajv");
const YAML = require("yaml");

export const DOCUMENT_URL = new URL("../../docs/asyncapi.yaml", import.meta.url);
export const document = YAML.parse(readFileSync(DOCUMENT_URL, "utf8"));

const resolve = (pointer) =>
  pointer
    .replace(/^#\//, "")
    .split("/")
    .reduce((node, part) => node[part.replaceAll("~1", "/").replaceAll("~0", "~")], document);

/** [the last pointer followed, the object] of a node that may be a $ref. */
function follow(node) {
  let pointer = null;
  while (node.$ref) {
    pointer = node.$ref;
    node = resolve(pointer);
  }
  return [pointer, node];
}

// The payloads sit beside the components their $refs name (a keyword that
// only holds them, as `definitions` would).
const ajv = new Ajv({ strictTypes: false });
ajv.addKeyword({ keyword: "components" });
ajv.addSchema({ $id: "asyncapi", components: document.components });

/** {server: {type: validate}, client: {type: validate}}: the messages of the
 * server's `send` operations and of its `receive` operations. */
export const validators = { server: {}, client: {} };
for (const operation of Object.values(document.operations)) {
  const side = operation.action === "send" ? "server" : "client";
  for (const reference of operation.messages) {
    const [pointer, message] = follow(reference);
    const place = message.payload.$ref ?? `${pointer}/payload`;
    const type = follow(message.payload)[1].properties.type.const;
    validators[side][type] = ajv.compile({ $ref: `asyncapi${place}` });
  }
}

/** Why `frame` is not a valid frame of `side` ("client" or "server"), or null. */
export function problem(side, frame) {
  const validate = validators[side][frame?.type];
  if (!validate) return `type ${JSON.stringify(frame?.type)} is not a ${side} frame of docs/asyncapi.yaml`;
  if (validate(frame)) return null;
  const [first] = validate.errors;
  return `frame${first.instancePath}: ${first.message} ${JSON.stringify(first.params)}`;
}
