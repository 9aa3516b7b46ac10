// Validates glTF/GLB files with the Khronos glTF Validator (npm gltf-validator) and prints one
// JSON line per file: errors, warnings, triangle and draw-call counts, extensions, issue codes.
// External resources are only read from the file's own folder.
// With --stdin it stays up for many requests (tests/gltf_validator.py: one node start-up per
// test session, not per file): each input line is a JSON array of paths, answered by one line per
// file and then {"batch": "done"}.
import { readFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import validator from "gltf-validator";

async function validate(file) {
  const dir = path.dirname(path.resolve(file));
  let report;
  try {
    const bytes = new Uint8Array(await readFile(file));
    report = await validator.validateBytes(bytes, {
      uri: path.basename(file),
      maxIssues: 1000,
      externalResourceFunction: async (uri) => {
        const target = path.resolve(dir, decodeURIComponent(uri));
        if (!target.startsWith(dir + path.sep)) throw new Error(`outside folder: ${uri}`);
        return new Uint8Array(await readFile(target));
      },
    });
  } catch (err) {
    return { file, fatal: String(err) };
  }
  const messages = report.issues.messages.map((m) => ({
    code: m.code, severity: m.severity, pointer: m.pointer, message: m.message,
  }));
  return {
    file,
    numErrors: report.issues.numErrors,
    numWarnings: report.issues.numWarnings,
    totalTriangleCount: report.info?.totalTriangleCount ?? null,
    drawCallCount: report.info?.drawCallCount ?? null,
    extensionsUsed: report.info?.extensionsUsed ?? [],
    errors: messages.filter((m) => m.severity === 0),
    warnings: messages.filter((m) => m.severity === 1),
  };
}

if (process.argv[2] === "--stdin") {
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    for (const file of JSON.parse(line)) console.log(JSON.stringify(await validate(file)));
    console.log(JSON.stringify({ batch: "done" }));
  }
} else {
  for (const file of process.argv.slice(2)) console.log(JSON.stringify(await validate(file)));
}
