// Validates glTF/GLB files with the Khronos glTF Validator (npm gltf-validator) and prints one
// JSON line per file: errors, warnings, triangle and draw-call counts, extensions, issue codes.
// External resources are only read from the file's own folder.
import { readFile } from "node:fs/promises";
import path from "node:path";
import validator from "gltf-validator";

for (const file of process.argv.slice(2)) {
  const dir = path.dirname(path.resolve(file));
  const bytes = new Uint8Array(await readFile(file));
  let report;
  try {
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
    console.log(JSON.stringify({ file, fatal: String(err) }));
    continue;
  }
  const messages = report.issues.messages.map((m) => ({
    code: m.code, severity: m.severity, pointer: m.pointer, message: m.message,
  }));
  console.log(JSON.stringify({
    file,
    numErrors: report.issues.numErrors,
    numWarnings: report.issues.numWarnings,
    totalTriangleCount: report.info?.totalTriangleCount ?? null,
    drawCallCount: report.info?.drawCallCount ?? null,
    extensionsUsed: report.info?.extensionsUsed ?? [],
    errors: messages.filter((m) => m.severity === 0),
    warnings: messages.filter((m) => m.severity === 1),
  }));
}
