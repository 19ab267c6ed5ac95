// Starts the real `sportello serve --demo` on a free port with a scratch SQLite database, and
// reads the demo staff accounts it prints.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** `args`: more options of `serve` (e.g. `--pretend-now` to run in an office's opening hours). */
export async function startServer(args = []) {
  const binary = process.env.SPORTELLO_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repo, "target"), "debug", "sportello");
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sportello-browser-"));
  const child = spawn(
    binary,
    ["--database-url", `sqlite://${scratch}/s.db?mode=rwc`, "serve", "--demo", "--bind", "127.0.0.1:0", "--trust-forwarded-for", "--plain-http", "--assets-dir", path.join(repo, "core", "web", "dist"), "--mail-dir", path.join(scratch, "mail"), ...args],
    { cwd: repo, env: { ...process.env, SPORTELLO_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  let seen = "";
  const base = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = seen.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`sportello exited with ${code}`)));
  });
  // The demo staff accounts, as printed once on the console: "  role  email  password".
  const staff = {};
  for (const [, role, email, password] of seen.matchAll(/^\s+(platform|tenant_admin|operator)\s+(\S+@\S+)\s+(\S+)$/gm)) {
    staff[email] = { role, email, password };
  }
  return { base, staff, stop: () => child.kill("SIGTERM") };
}
