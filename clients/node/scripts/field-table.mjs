// Writes src/gen/fields.ts from a FileDescriptorSet (protoc --descriptor_set_out
// --include_imports): the request type of every RPC, and the fields of every message, so that
// an error can tell whether the path its message starts with ("items[3].id ...") names a field
// of the request. Run by clients/generate.sh: node scripts/field-table.mjs DESCRIPTORS OUT
import { readFileSync, writeFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const [descriptors, out] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptors)));

const requests = [];
const messages = [];
for (const file of registry.files) {
  for (const service of file.services) {
    for (const method of service.methods) {
      requests.push([`/${service.typeName}/${method.name}`, method.input.typeName]);
    }
  }
}
for (const type of registry) {
  if (type.kind !== "message") continue;
  const fields = type.fields.map((field) => {
    // the message a path may go on into: a message field's type, or a repeated one's
    // ("items[3].id"); a map's values are not addressed by path
    const message = field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message");
    const next = message ? field.message.typeName : null;
    return [field.name, next];
  });
  messages.push([type.typeName, fields]);
}
requests.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
messages.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const lines = [
  "// Code generated from the protos by clients/generate.sh (scripts/field-table.mjs). DO NOT EDIT.",
  "",
  "/** The request message type of each RPC, by method path. */",
  "export const REQUEST_TYPES: Readonly<Record<string, string>> = {",
  ...requests.map(([path, type]) => `  ${JSON.stringify(path)}: ${JSON.stringify(type)},`),
  "};",
  "",
  "/** The fields of each message by their proto names, with the message type of those that are messages. */",
  "export const MESSAGE_FIELDS: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {",
  ...messages.map(([type, fields]) =>
    `  ${JSON.stringify(type)}: { ${fields.map(([name, next]) => `${name}: ${JSON.stringify(next)}`).join(", ")} },`),
  "};",
  "",
];
writeFileSync(out, lines.join("\n"));
