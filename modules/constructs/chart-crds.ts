import { Construct } from "constructs";
import { Fn, TerraformIterator, TerraformLocal } from "cdktf";
import { DataHelmTemplate } from "@cdktf/provider-helm/lib/data-helm-template";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";

/** A chart, at a pinned version, whose CustomResourceDefinitions are applied apart from its release. */
export interface ChartCrdsProps {
  readonly repository: string;
  readonly chart: string;
  readonly version: string;
  /** Release name and namespace the chart is rendered for. */
  readonly releaseName: string;
  readonly namespace: string;
  /** Values the chart is rendered with: the release's, so that rendering succeeds as it does on install. */
  readonly values: string[];
}

/**
 * The CustomResourceDefinitions of a pinned chart version, applied with the
 * Kubernetes provider so that raising the version upgrades them (Helm installs
 * a chart's `crds/` once and never upgrades them; release the chart with
 * `skip_crds`). The chart is rendered on the machine running Terraform while
 * planning (`helm_template`, client-only); each CRD is a `kubernetes_manifest`
 * keyed by its name. A CRD is a built-in kind, so planning needs the API server
 * but no CRD that the same apply installs.
 */
export class ChartCrds extends Construct {
  readonly crds: Manifest;
  /** The names of the CRDs applied, known while planning. */
  readonly names: string[];

  constructor(scope: Construct, id: string, props: ChartCrdsProps) {
    super(scope, id);
    const template = new DataHelmTemplate(this, "template", {
      name: props.releaseName,
      namespace: props.namespace,
      repository: props.repository,
      chart: props.chart,
      version: props.version,
      values: props.values,
      includeCrds: true,
      skipTests: true,
    });
    // One entry per CRD document of every file in the chart's crds/, keyed by CRD name.
    const files = `data.${template.terraformResourceType}.${template.friendlyUniqueId}.crds`;
    const byName = new TerraformLocal(
      this,
      "by-name",
      `\${{ for crd in flatten([for file in ${files} : provider::kubernetes::manifest_decode_multi(file)]) : crd.metadata.name => jsonencode(crd) if crd.kind == "CustomResourceDefinition" }}`,
    );
    this.names = Fn.keys(byName.asAnyMap);
    const crd = TerraformIterator.fromMap(byName.asAnyMap);
    // Labelled with the chart version they come from: a version bump shows on every CRD in the plan.
    const labels = `{ "helm.sh/chart" = "${props.chart}-${props.version}", "app.kubernetes.io/managed-by" = "terraform" }`;
    this.crds = new Manifest(this, "crd", {
      forEach: crd,
      manifest: `\${merge(jsondecode(each.value), { metadata = merge(jsondecode(each.value).metadata, { labels = merge(try(jsondecode(each.value).metadata.labels, {}), ${labels}) }) })}` as unknown as Record<string, unknown>,
      wait: { condition: [{ type: "Established", status: "True" }] },
    });
  }
}
