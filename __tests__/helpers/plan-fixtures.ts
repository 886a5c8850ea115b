import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigSources } from "../../modules/config/load";
import { runPlans, StackPlanStatus } from "../../modules/plan/runner";
import { loadStackPlans, StackPlan } from "../../modules/plan/plan-json";
import { runTerraform, standInOutputs, TerraformEnvironment } from "../../modules/plan/terraform";
import { synthFleet } from "./fleet";

type Json = Record<string, unknown>;

/** The AWS provider's schema of one block: attribute types and nested blocks. */
interface SchemaBlock {
  attributes?: Record<string, { type: unknown }>;
  block_types?: Record<string, { block: SchemaBlock }>;
}

let providerSchemas: Promise<Record<string, { block: SchemaBlock }>> | undefined;

/** Resource schemas of the AWS provider, read once from an initialized stack. */
function resourceSchemas(terraform: TerraformEnvironment, stackDir: string) {
  providerSchemas ??= runTerraform(terraform, stackDir, ["providers", "schema", "-json"]).then(
    (text) => JSON.parse(text).provider_schemas["registry.terraform.io/hashicorp/aws"].resource_schemas,
  );
  return providerSchemas;
}

/** A value of the attribute's type, for attributes AWS would have filled in. */
function zeroValue(type: unknown): unknown {
  if (type === "string") return "";
  if (type === "number") return 0;
  if (type === "bool") return false;
  // A computed list of objects (an EKS cluster's certificate_authority) has one element once applied.
  if (Array.isArray(type) && type[0] === "list" && Array.isArray(type[1]) && type[1][0] === "object") {
    return [Object.fromEntries(Object.entries(type[1][1] as Record<string, unknown>).map(([k, t]) => [k, zeroValue(t)]))];
  }
  if (Array.isArray(type) && (type[0] === "list" || type[0] === "set")) return [];
  if (Array.isArray(type) && type[0] === "map") return {};
  return null;
}

/** Prefixes of AWS ids that the provider validates where they are referenced. */
const ID_PREFIXES: Record<string, string> = {
  aws_launch_template: "lt-",
  aws_security_group: "sg-",
  aws_vpc: "vpc-",
  aws_subnet: "subnet-",
  aws_internet_gateway: "igw-",
  aws_nat_gateway: "nat-",
  aws_route_table: "rtb-",
  aws_eip: "eipalloc-",
};

/** A stand-in for a value only known after apply, shaped like AWS's. */
function standIn(address: string, attribute: string): string {
  const hex = createHash("sha256").update(`${address}.${attribute}`).digest("hex").slice(0, 17);
  if (attribute === "arn" || attribute.endsWith("_arn")) return `arn:aws:stand-in:eu-west-1:123456789012:${hex}/${attribute}`;
  return attribute === "id" ? `${ID_PREFIXES[address.split(".")[0]] ?? "id-"}${hex}` : `${attribute}-${hex}`;
}

/**
 * Turns empty-state plans into state as if they had been applied: known
 * values as planned; unknown ones resolved through the references in the
 * synthesized JSON (so a listener's load_balancer_arn is the ALB's arn), or
 * given a stand-in of their own.
 */
class AppliedState {
  private readonly planned = new Map<string, Json>();
  /** Each resource with its own unknown attributes filled, references not yet resolved. */
  private readonly ownValues = new Map<string, Json>();

  constructor(
    private readonly plan: Json,
    private readonly stackJson: { resource?: Record<string, Record<string, Json>> },
    private readonly schemas: Record<string, { block: SchemaBlock }>,
  ) {
    const unknownOf = new Map(((plan.resource_changes as Json[]) ?? []).map((c) => [c.address as string, (c.change as Json).after_unknown as Json]));
    for (const r of this.resources()) {
      const address = r.address as string;
      this.planned.set(address, r.values as Json);
      this.ownValues.set(address, this.fill(r.values as Json, unknownOf.get(address), undefined, address, this.schemas[r.type as string].block));
    }
    for (const r of this.resources()) {
      const address = r.address as string;
      const config = this.stackJson.resource?.[r.type as string]?.[r.name as string];
      this.ownValues.set(address, this.fill(this.ownValues.get(address)!, unknownOf.get(address), config, address, this.schemas[r.type as string].block));
    }
  }

  private resources(): Json[] {
    return ((this.plan.planned_values as Json).root_module as Json).resources as Json[];
  }

  /** The value at `type.name` + path such as `vpc_config[0].cluster_security_group_id`. */
  private valueAt(address: string, attributePath: string): unknown {
    let value: unknown = this.ownValues.get(address) ?? this.planned.get(address);
    for (const segment of attributePath.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "")) {
      value = Array.isArray(value) ? value[Number(segment)] : (value as Json | undefined)?.[segment];
    }
    return value ?? standIn(address, attributePath.split(".").pop()!);
  }

  private resolve(expression: unknown, type: unknown): unknown {
    const token = /\$\{((?:aws|data)[a-z0-9_]*\.[^.}\[]+)\.([a-z0-9_.\[\]]+)\}/g;
    if (typeof expression === "string") {
      const whole = new RegExp(`^${token.source}$`).exec(expression);
      if (whole) {
        const value = this.valueAt(whole[1], whole[2]);
        return type === "string" && typeof value !== "string" ? String(value) : value;
      }
      return expression.replace(token, (_m, address: string, attributePath: string) => String(this.valueAt(address, attributePath)));
    }
    if (Array.isArray(expression)) return expression.map((e) => this.resolve(e, Array.isArray(type) ? type[1] : undefined));
    // A map set from references (alarm dimensions, a function's environment variables).
    if (expression !== null && typeof expression === "object") {
      return Object.fromEntries(Object.entries(expression).map(([key, value]) => [key, this.resolve(value, Array.isArray(type) ? type[1] : undefined)]));
    }
    return expression;
  }

  /**
   * Fills the unknown attributes of `values`: with `config`, those set from
   * references; without, the ones AWS computes (ids, ARNs, zero values).
   */
  private fill(values: Json, unknown: Json | undefined, config: unknown, address: string, schema: SchemaBlock): Json {
    const filled: Json = { ...values };
    const body = (Array.isArray(config) ? config[0] : config) as Json | undefined;
    for (const [key, flag] of Object.entries(unknown ?? {})) {
      const expression = body?.[key];
      const type = schema.attributes?.[key]?.type;
      const nested = schema.block_types?.[key]?.block ?? objectListBlock(type);
      if (flag === true) {
        if (config === undefined) {
          filled[key] = /(^|_)(id|arn|name)$/.test(key) ? standIn(address, key) : nested && !type ? [] : zeroValue(type);
        } else if (expression !== undefined) {
          filled[key] = this.resolve(expression, type);
        }
      } else if (Array.isArray(flag) && Array.isArray(filled[key]) && nested) {
        const configItems = Array.isArray(expression) ? expression : [expression];
        filled[key] = (filled[key] as Json[]).map((item, i) =>
          this.fill(item, flag[i] as Json, config === undefined ? undefined : (configItems[i] ?? configItems[0] ?? {}), address, nested),
        );
      }
    }
    return filled;
  }

  /** The state; `outputs` are the stand-ins other stacks' baseline plans read, so they see no change. */
  state(outputs: Json): Json {
    const resources = this.resources().map((r) => ({
      mode: r.mode,
      type: r.type,
      name: r.name,
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [{ schema_version: r.schema_version ?? 0, attributes: this.ownValues.get(r.address as string), sensitive_attributes: [] }],
    }));
    return { version: 4, terraform_version: "1.11.0", serial: 1, lineage: "stand-in", outputs, resources };
  }
}

/** The schema block of an attribute typed as a list or set of objects. */
function objectListBlock(type: unknown): SchemaBlock | undefined {
  if (!Array.isArray(type) || !Array.isArray(type[1]) || type[1][0] !== "object") return undefined;
  const fields = type[1][1] as Record<string, unknown>;
  return { attributes: Object.fromEntries(Object.entries(fields).map(([k, t]) => [k, { type: t }])) };
}

/** Plans of a baseline configuration, from which changes can be planned. */
export interface PlannedBaseline {
  /** The baseline's own plans, on empty state: a first deploy (the stacks that could not be planned, with why). */
  readonly firstDeploy: StackPlan[];
  /** What the runner returned for the first deploy. */
  readonly firstDeployStatuses: StackPlanStatus[];
  /** The baseline's synthesized output, with the first deploy's plans in `plans/`. */
  readonly outdir: string;
  /**
   * Real plans of the change from the baseline to `after`, for the planned stacks or those of them given;
   * `editState` changes a stack's state text first (to stand for what an older version applied).
   */
  planChange(after: ConfigSources, stacks?: readonly string[], editState?: (stack: string, state: string) => string): Promise<StackPlan[]>;
}

/**
 * Real Terraform plans of changes: plans every stack of `before` that can be
 * planned offline on empty state, and turns those plans into state as if
 * applied; each change is then planned against that state (offline, no refresh).
 */
export async function planBaseline(terraform: TerraformEnvironment, before: ConfigSources, region: string): Promise<PlannedBaseline> {
  const base = synthFleet(before);
  const statuses = await runPlans({ outdir: base.outdir, terraform, offline: true, region });
  const planned = statuses.filter((s) => s.status === "planned").map((s) => s.stack);
  const schemas = await resourceSchemas(terraform, path.join(base.outdir, "stacks", planned[0]));
  const states = planned.map((stack) => {
    const plan = JSON.parse(fs.readFileSync(path.join(base.outdir, "plans", `${stack}.json`), "utf8"));
    const outputs = standInOutputs(path.join(base.outdir, "stacks"), stack, region);
    return { stack, state: JSON.stringify(new AppliedState(plan, base.stack(stack), schemas).state(outputs)) };
  });
  return {
    firstDeploy: loadStackPlans(base.outdir),
    firstDeployStatuses: statuses,
    outdir: base.outdir,
    async planChange(after: ConfigSources, stacks: readonly string[] = planned, editState = (_: string, state: string) => state): Promise<StackPlan[]> {
      const next = synthFleet(after);
      const stateDir = path.join(path.dirname(next.outdir), "state");
      fs.mkdirSync(stateDir, { recursive: true });
      for (const { stack, state } of states) fs.writeFileSync(path.join(stateDir, `${stack}.tfstate`), editState(stack, state));
      await runPlans({ outdir: next.outdir, terraform, offline: true, region, stacks: [...stacks] });
      return loadStackPlans(next.outdir).filter((s) => stacks.includes(s.stack));
    },
  };
}
