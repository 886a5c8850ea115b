// Preloaded into every Node process of a benchmarked command (NODE_OPTIONS=--require):
// each reports its peak resident memory on exit.
process.on("exit", () => {
  process.stderr.write(`\nPEAK_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
