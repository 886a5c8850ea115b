/** "1 cluster", "2 clusters": a count with its noun, singular or plural. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
