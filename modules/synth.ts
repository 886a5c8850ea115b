import * as fs from "fs";
import { App } from "cdktf";
import { FleetConfig } from "./config/load";
import { buildFleet } from "./fleet";

/**
 * Synthesizes the fleet into `outdir`, replacing its previous content only
 * once the new output is complete: a failed run leaves the old output as it was.
 */
export function synthesizeFleet(fleet: FleetConfig, outdir: string): void {
  const staging = `${outdir}.staging`;
  const previous = `${outdir}.previous`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(previous, { recursive: true, force: true });
  try {
    const app = new App({ outdir: staging });
    buildFleet(app, fleet);
    app.synth();
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  if (fs.existsSync(outdir)) fs.renameSync(outdir, previous);
  fs.renameSync(staging, outdir);
  fs.rmSync(previous, { recursive: true, force: true });
}
