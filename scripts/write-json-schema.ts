import * as fs from "fs";
import * as path from "path";
import { jsonSchemas } from "../modules/config/json-schema";
import { projectRoot } from "../modules/support/project-root";
import { runCommand } from "../modules/cli/run-command";
import { parseCommandLine } from "../modules/cli/args";

const USAGE = `usage: npm run schema
  writes the config files' JSON Schemas to schema/`;

/** Writes the config files' JSON Schemas to schema/, where the example files point editors. */
runCommand(() => {
  if (!parseCommandLine({ usage: USAGE, options: {} })) return;
  const dir = path.join(projectRoot(), "schema");
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, schema] of Object.entries(jsonSchemas())) {
    fs.writeFileSync(path.join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    console.log(`wrote schema/${file}`);
  }
});
