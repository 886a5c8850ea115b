/**
 * Text that Terraform takes literally. Terraform reads every string of the
 * synthesized JSON as a template, where `${` and `%{` start an interpolation or
 * a directive; user-supplied text (files, values, environment) escapes them.
 */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** {@link terraformLiteral} applied to each value of a record. */
export function terraformLiteralValues(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, terraformLiteral(value)]));
}
