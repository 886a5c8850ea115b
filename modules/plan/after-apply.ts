/**
 * Stacks whose plan must wait until a stack they read outputs from is applied.
 * A stack reads another's outputs through cdktf's cross-stack references
 * (`data.terraform_remote_state.cross-stack-reference-input-<producer>.outputs.<output>`),
 * that is from the producer's state: an output the producer's pending change
 * creates or changes is not there yet, so the reader's plan would fail on a
 * missing attribute or show values about to change.
 */

/** cdktf's name for the remote state of a stack another reads from. */
const CROSS_STACK_INPUT = "cross-stack-reference-input-";
const CROSS_STACK_READ = /data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g;

/** Per producer stack, the outputs a synthesized stack (its `cdk.tf.json` text) reads from it. */
export function outputsReadByProducer(stackJsonText: string): Map<string, Set<string>> {
  const reads = new Map<string, Set<string>>();
  for (const [, producer, output] of stackJsonText.matchAll(CROSS_STACK_READ)) {
    if (!reads.has(producer)) reads.set(producer, new Set());
    reads.get(producer)!.add(output);
  }
  return reads;
}

/** What the run knows of a producer: its plan's output changes, or that it too waits, or nothing (not planned). */
export type ProducerOutcome =
  | { readonly status: "planned"; readonly outputChanges: Readonly<Record<string, { readonly actions: readonly string[] }>> }
  | { readonly status: "deferred" }
  | { readonly status: "other" };

/** A stack to plan once these stacks are applied, and why. */
export interface PlansAfter {
  readonly after: readonly string[];
  readonly reason: string;
}

/**
 * Whether a stack must be planned after some of the stacks it reads from are
 * applied, given what the run learnt of them and, when its own plan failed,
 * the error. A producer counts when:
 * - its plan creates, changes or deletes an output the stack reads;
 * - it is itself planned after another stack applies;
 * - (planned or not) the stack's plan failed because the producer's state has no such
 *   output yet, or no state at all.
 * Undefined when none does: the stack's own plan (or failure) stands.
 */
export function plansAfter(reads: ReadonlyMap<string, ReadonlySet<string>>, producers: ReadonlyMap<string, ProducerOutcome>, failure?: string): PlansAfter | undefined {
  const reasons = new Map<string, string>();
  for (const [producer, outputs] of [...reads].sort(([a], [b]) => a.localeCompare(b))) {
    const outcome = producers.get(producer) ?? { status: "other" };
    if (outcome.status === "deferred") {
      reasons.set(producer, `${producer} itself plans after another stack applies`);
      continue;
    }
    if (outcome.status === "planned") {
      const changed = [...outputs].filter((output) => {
        const actions = outcome.outputChanges[output]?.actions ?? ["create"];
        return !(actions.length === 1 && actions[0] === "no-op");
      });
      if (changed.length > 0) {
        reasons.set(producer, `${producer}'s plan creates or changes ${changed.length === 1 ? "the output" : `${changed.length} outputs`} it reads (${changed.sort()[0]}${changed.length > 1 ? ", …" : ""})`);
        continue;
      }
    }
    if (failure === undefined) continue;
    // Terraform wraps its messages: compare with the whitespace folded.
    const message = failure.replace(/\s+/g, " ");
    const missing = [...outputs].filter((output) => message.includes(`attribute named "${output}"`));
    if (missing.length > 0) reasons.set(producer, `${producer}'s state has no output ${missing.sort()[0]} yet`);
    else if (/Unable to find remote state/.test(message) && message.includes(`${CROSS_STACK_INPUT}${producer}`)) reasons.set(producer, `${producer} has no state yet`);
  }
  if (reasons.size === 0) return undefined;
  const after = [...reasons.keys()];
  return { after, reason: `plans after ${after.join(" and ")} ${after.length === 1 ? "applies" : "apply"}: ${[...reasons.values()].join("; ")}` };
}
