import { parseArgs, ParseArgsConfig } from "util";
import { UserError } from "../support/user-error";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** What a command accepts on its command line. */
export interface CommandLineSpec<O extends OptionsConfig> {
  /** Usage text: printed by `--help`, and after any bad command line. */
  readonly usage: string;
  /** Flags, as `util.parseArgs` takes them; `--help` (`-h`) is added. */
  readonly options: O;
  /** Positional arguments allowed. @default none */
  readonly positionals?: { readonly min?: number; readonly max?: number };
}

/** A command line the command cannot run with: the problem, then the usage. */
export class UsageError extends UserError {
  constructor(problem: string, usage: string) {
    super(`${problem}\n${usage}`);
    this.name = "UsageError";
  }
}

/** Flag values and positional arguments of a parsed command line. */
export interface ParsedCommandLine<O extends OptionsConfig> {
  readonly values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>>["values"];
  readonly positionals: string[];
}

/**
 * Parses a command line strictly: an unknown flag, a flag missing its value,
 * a value given to a switch or a stray argument is a {@link UsageError}.
 * Returns undefined after printing the usage when `--help` was asked for.
 */
export function parseCommandLine<O extends OptionsConfig>(
  spec: CommandLineSpec<O>,
  args: readonly string[] = process.argv.slice(2),
): ParsedCommandLine<O> | undefined {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...spec.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }), spec.usage);
  }
  if (parsed.values.help) {
    console.log(spec.usage);
    return undefined;
  }
  const { min = 0, max = 0 } = spec.positionals ?? {};
  const count = parsed.positionals.length;
  if (count > max) {
    const stray = parsed.positionals.slice(max).map((a) => `"${a}"`);
    throw new UsageError(`unexpected argument${stray.length === 1 ? "" : "s"} ${stray.join(" ")}`, spec.usage);
  }
  if (count < min) throw new UsageError(min - count === 1 ? "missing argument" : `missing ${min - count} arguments`, spec.usage);
  const { help: _help, ...values } = parsed.values;
  return { values: values as ParsedCommandLine<O>["values"], positionals: parsed.positionals };
}

function describeParseError(error: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/does not take an argument/.test(error.message)) return `${flag} takes no value`;
      if (/ambiguous/.test(error.message)) return `${flag} needs a value; write ${flag}=<value> for one starting with "-"`;
      return `${flag} needs a value`;
    default:
      throw error;
  }
}

/** Bounds of an integer flag. */
export interface IntegerBounds {
  readonly min: number;
  /** @default no upper bound */
  readonly max?: number;
}

/**
 * The value of an integer flag such as `--concurrency 2`, or undefined when
 * the flag was not given; anything but a whole number within bounds is a
 * {@link UsageError}.
 */
export function integerFlag(value: string | undefined, flag: string, bounds: IntegerBounds, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const range = bounds.max === undefined ? `${bounds.min} or more` : `from ${bounds.min} to ${bounds.max}`;
  const number = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < bounds.min || (bounds.max !== undefined && number > bounds.max)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} must be a whole number ${range}`, usage);
  }
  return number;
}
