import * as fs from "fs";
import { TerraformEnvironment, terraformEnvironment } from "../../modules/plan/terraform";

/** Mirrors known on this project's machines, used when TF_PLUGIN_DIR is unset. */
const KNOWN_MIRRORS = ["/opt/tf-plugins"];

function findEnvironment(): { environment?: TerraformEnvironment; unavailable?: string } {
  const pluginDir = process.env.TF_PLUGIN_DIR ?? KNOWN_MIRRORS.find((dir) => fs.existsSync(dir));
  if (!pluginDir && process.env.TERRAFORM_USE_REGISTRY !== "1") {
    return { unavailable: "no provider mirror: set TF_PLUGIN_DIR to one, or TERRAFORM_USE_REGISTRY=1 to download providers" };
  }
  try {
    return { environment: terraformEnvironment({ pluginDir }) };
  } catch (error) {
    return { unavailable: (error as Error).message };
  }
}

const found = findEnvironment();

/**
 * A describe block of checks that run real Terraform. Where Terraform or the
 * AWS provider is missing it fails with the reason, never passes silently;
 * TERRAFORM_CHECKS=off skips it knowingly (jest reports it skipped).
 */
export function describeWithTerraform(title: string, body: (environment: TerraformEnvironment) => void): void {
  if (process.env.TERRAFORM_CHECKS === "off") {
    describe.skip(title, () => body(undefined as unknown as TerraformEnvironment));
    return;
  }
  if (!found.environment) {
    describe(title, () => {
      it("can run Terraform on this machine", () => {
        throw new Error(`Terraform checks cannot run: ${found.unavailable}. Set TERRAFORM_CHECKS=off to skip them knowingly.`);
      });
    });
    return;
  }
  const environment = found.environment;
  describe(`${title} (providers from ${environment.providerSource})`, () => body(environment));
}
